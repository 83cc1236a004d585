// Runs the fake oVirt engine in its own process (benchmarks, trying the CLI by
// hand): `node dist/test/peers/ovirt/serve.js '{"diskFiles":{…}}'` prints one
// JSON line {url, caFile, username, password, pid} and serves until SIGTERM.
import { startOvirtFake, type OvirtFakeOptions } from './server.js';

const options = JSON.parse(process.argv[2] ?? '{}') as OvirtFakeOptions;
const fake = await startOvirtFake(options);
process.stdout.write(`${JSON.stringify({ url: fake.url, caFile: fake.pki.caCert, username: fake.username, password: fake.password, pid: process.pid })}\n`);
process.once('SIGTERM', () => {
  void fake.stop().then(() => process.exit(0));
});
