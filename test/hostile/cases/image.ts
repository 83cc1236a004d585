// Images that name a local file outside themselves (item 1 of the security
// issue): every kind, over HTTP, an upload and file://, naming the case's
// secret file. Each must be refused as IMAGE_UNSUPPORTED before a byte of it
// reaches the target; the harness checks the secret is nowhere in the target.
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { startImageServer } from '../../helpers/image-server.js';
import { REFERRING_IMAGES, type ReferringImage } from '../../helpers/referring-images.js';
import type { HostileCase, HostileContext, HostileRun } from '../harness.js';

type Transport = 'http' | 'upload' | 'file';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Sends `file` to the upload endpoint once it listens, as virtctl image-upload would. */
function uploadWhenListening(base: string, token: string, file: string, ctx: HostileContext): void {
  let stopped = false;
  ctx.defer(() => (stopped = true));
  void (async () => {
    for (let i = 0; i < 300 && !stopped; i++) {
      try {
        if ((await fetch(`${base}/healthz`)).ok) break;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (stopped) return;
    try {
      await fetch(`${base}/v1beta1/upload`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: readFileSync(file) });
    } catch {
      // the import answers with its error, or closes: either way the CLI's result is what the case checks
    }
  })();
}

/**
 * Where qemu meets the image, relative to the secret: file:// reads it in
 * `inputs/`; HTTP and uploads land it in `target/.v2v-scratch-*`.
 */
function relativeSecret(transport: Transport): string {
  return transport === 'file' ? '../secret.txt' : '../../secret.txt';
}

async function importRun(ctx: HostileContext, image: ReferringImage, transport: Transport, refer: string): Promise<HostileRun> {
  const file = image.build(ctx.inputs, refer);
  const target = ['--target', ctx.target, '--size', '64Mi'];
  if (transport === 'file') return { args: ['import', '--url', `file://${join(ctx.inputs, file)}`, ...target] };
  if (transport === 'http') {
    const server = await startImageServer({ root: ctx.inputs });
    ctx.defer(() => server.close());
    return { args: ['import', '--url', `${server.url}/${file}`, ...target] };
  }
  const port = await freePort();
  const tokenFile = join(ctx.inputs, 'token');
  writeFileSync(tokenFile, 'hostile-upload-token\n');
  uploadWhenListening(`http://127.0.0.1:${port}`, 'hostile-upload-token', join(ctx.inputs, file), ctx);
  return { args: ['import', '--upload', '--listen', `127.0.0.1:${port}`, '--upload-token-file', tokenFile, ...target] };
}

function referringCase(image: ReferringImage, transport: Transport, how: 'absolute' | 'relative'): HostileCase {
  return {
    id: `image.${image.name}-${how}-${transport}`,
    item: '1',
    what: `${image.what} (named by ${how} path), imported over ${transport === 'file' ? 'file://' : transport}`,
    setup: (ctx) => importRun(ctx, image, transport, how === 'absolute' ? ctx.secretPath : relativeSecret(transport)),
    expect: { code: 'IMAGE_UNSUPPORTED', exit: 1, stderr: /refers to files outside itself[\s\S]*hint: import a self-contained/ },
  };
}

const TRANSPORTS: Transport[] = ['http', 'upload', 'file'];
/** Relative names too, where the kind takes a path as written. */
const RELATIVE = new Set(['qcow2-backing', 'qcow2-data-file-raw', 'vmdk-monolithic-flat', 'vmdk-embedded-descriptor']);

export const imageCases: HostileCase[] = REFERRING_IMAGES.flatMap((image) =>
  TRANSPORTS.flatMap((transport) => [
    referringCase(image, transport, 'absolute'),
    ...(RELATIVE.has(image.name) && transport !== 'upload' ? [referringCase(image, transport, 'relative')] : []),
  ]),
);
