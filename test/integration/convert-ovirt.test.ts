import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GUEST_NICS, guestImages } from '../guest/guest.js';
import { runCli } from '../helpers/cli.js';
import { validateObject } from '../helpers/openapi.js';
import { OVIRT_VM_MAPPING } from '../helpers/ovirt.js';
import { buildVm, defaultInventory, uid } from '../peers/ovirt/fixtures.js';
import { startOvirtFake, type OvirtFake } from '../peers/ovirt/server.js';

const LIBGUESTFS = { LIBGUESTFS_BACKEND: 'direct', LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' };
const GUEST_DISK = uid('disk:debian-guest');

// The oVirt path: the fake engine lists the VM, imageio serves the Debian
// guest disk (a real sparse file), real virt-v2v converts it.
describe('v2v convert from the oVirt fake through imageio, end to end', () => {
  let fake: OvirtFake;
  let sources: string;
  let mapping: string;
  let work: string;

  beforeAll(async () => {
    const { debian } = guestImages();
    const inventory = defaultInventory();
    inventory.vms.push(
      buildVm(
        {
          name: 'vm-debian',
          os: 'debian_9',
          disks: [{ id: GUEST_DISK, sizeBytes: statSync(debian).size, interface: 'virtio_scsi', bootable: true }],
          nics: [{ mac: GUEST_NICS.vmnic0.mac }],
        },
        inventory,
      ),
    );
    fake = await startOvirtFake({ inventory, diskFiles: { [GUEST_DISK]: debian } });
    sources = await fake.sourcesFile();
    work = await mkdtemp(join(tmpdir(), 'v2v-convert-ovirt-'));
    mapping = join(work, 'mapping.yaml');
    await writeFile(mapping, OVIRT_VM_MAPPING);
  });
  afterAll(async () => fake?.stop());

  it('downloads through an image transfer (finalized), converts, renames the NIC, writes schema-valid manifests', async () => {
    const target = join(work, 'vm');
    const res = await runCli(['convert', '--sources', sources, '--source', 'rhv', '--vm', 'vm-debian@Default', '--target', target, '--mapping', mapping, '-o', 'json'], {
      env: { ...LIBGUESTFS, V2V_LOG_LEVEL: 'warn' },
      timeoutMs: 1_500_000,
    });
    expect(res.code, res.stderr.slice(-3000)).toBe(0);
    const disk = join(target, 'disk0', 'disk.img');
    expect(existsSync(`${disk}.v2v-partial`)).toBe(false);
    expect(fake.transfers.map((t) => t.actions)).toEqual([['add', 'finalize']]);

    const env = { ...process.env, ...LIBGUESTFS };
    const inspected = execFileSync('virt-inspector', ['-a', disk], { env, encoding: 'utf8' });
    expect(inspected).toMatch(/<distro>debian<\/distro>/);
    const ifcfg = execFileSync('virt-cat', ['-a', disk, '/etc/sysconfig/network-scripts/ifcfg-eth0'], { env, encoding: 'utf8' });
    expect(ifcfg).toMatch(/^NAME=eth0$/m);
    expect(ifcfg).toMatch(/^DEVICE=eth0$/m);

    const manifests = readdirSync(join(target, 'manifests')).map((f) => parse(readFileSync(join(target, 'manifests', f), 'utf8')) as { kind: string });
    expect(manifests.some((m) => m.kind === 'VirtualMachine')).toBe(true);
    for (const m of manifests) expect(validateObject(m)).toEqual([]);
  }, 1_800_000);
});
