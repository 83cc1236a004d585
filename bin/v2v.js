#!/usr/bin/env node
// Disk copies keep several reads and a write in flight on libuv's pool; the default 4 threads serialise them.
process.env.UV_THREADPOOL_SIZE ??= '16';
const { runProcess } = await import('../dist/src/cli/main.js');

process.exitCode = await runProcess(process.argv);
