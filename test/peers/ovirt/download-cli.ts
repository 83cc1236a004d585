// A child process for interruption tests: downloads one oVirt disk with the
// imageio source and the test copy loop. The password comes from the
// environment (never argv). Prints TRANSFER_OPEN once the transfer is open.
import { OvirtSource } from '../../../adapters/ovirt/index.js';
import { copyToSparseFile } from '../../helpers/sparse-copy.js';

const [url, username, caPem, diskId, target] = process.argv.slice(2);
const password = process.env['OVIRT_PASSWORD'] ?? '';
const { readFile } = await import('node:fs/promises');
const source = await OvirtSource.connect({ name: 'child', url: url!, username: username!, password, ca: await readFile(caPem!, 'utf8') });
const disk = await source.openDiskDownload(diskId!, { pollIntervalMs: 50, maxReaders: 2 });
process.stdout.write(`TRANSFER_OPEN ${disk.transfer.id}\n`);
await copyToSparseFile(disk, target!, { chunkBytes: 1024 * 1024, parallel: 2 });
process.stdout.write('COPY_DONE\n');
await source.close();
