import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBoot } from '../../src/convert/boot-check.js';
import { guestImages } from '../guest/guest.js';
import { runCli } from '../helpers/cli.js';
import { fakeVddkDir } from '../helpers/fake-vddk.js';
import { GUEST_VM_MAPPING, fakeVddkEnvFor, installGuest } from '../helpers/guest-vm.js';
import { validateObject } from '../helpers/openapi.js';
import { startVcsim, type Vcsim } from '../helpers/vcsim.js';
import { findVm, powerOn } from '../helpers/vsphere-ops.js';

const LIBGUESTFS = { LIBGUESTFS_BACKEND: 'direct', LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' };

function guestFile(image: string, path: string): string {
  return execFileSync('virt-cat', ['-a', image, path], { env: { ...process.env, ...LIBGUESTFS }, encoding: 'utf8' });
}

// The whole path of one VM through real parts: vcsim (inventory, checks),
// the fake VDDK over vcsim's datastore (copy), real virt-v2v-in-place under
// TCG (conversion), libguestfs (NIC renaming), KubeVirt objects.
describe('v2v convert: a vcsim VM holding the Debian guest, end to end', () => {
  let vcsim: Vcsim;
  let sources: string;
  let mapping: string;
  let work: string;
  let vddkEnv: NodeJS.ProcessEnv;
  let noRootImage: string;

  beforeAll(async () => {
    const { debian, noRoot } = guestImages();
    noRootImage = noRoot;
    work = await mkdtemp(join(tmpdir(), 'v2v-convert-'));
    vcsim = await startVcsim({ cluster: 1, host: 1, standaloneHost: 0, vm: 3, autostart: false });
    const client = await vcsim.client();
    try {
      await installGuest(vcsim, client, 'DC0_C0_RP0_VM0', debian);
      await installGuest(vcsim, client, 'DC0_C0_RP0_VM2', noRoot);
      await powerOn(client, await findVm(client, 'DC0_C0_RP0_VM1'));
    } finally {
      await client.logout();
    }
    const fake = await fakeVddkEnvFor(vcsim);
    vddkEnv = { ...fake.env, ...LIBGUESTFS, V2V_LOG_LEVEL: 'warn' };
    sources = await vcsim.sourcesFile({ insecureSkipVerify: true, thumbprint: fake.thumbprint });
    mapping = join(work, 'mapping.yaml');
    await writeFile(mapping, GUEST_VM_MAPPING);
  }, 600_000);
  afterAll(async () => vcsim?.stop());

  const convert = (vm: string, target: string, extra: string[] = []) =>
    runCli(['convert', '--sources', sources, '--source', 'vc', '--vm', vm, '--target', target, '--mapping', mapping, '--vddk-libdir', fakeVddkDir(), '-o', 'json', ...extra], {
      env: vddkEnv,
      timeoutMs: 1_500_000,
    });

  it('copies, converts with virt-v2v, renames the NIC, proves it comes up on boot, and writes schema-valid manifests; a rerun is a no-op', async () => {
    const target = join(work, 'vm0');
    const res = await convert('DC0_C0_RP0_VM0', target, ['--verify-boot']);
    expect(res.code, res.stderr.slice(-3000)).toBe(0);
    const summary = JSON.parse(res.stdout) as {
      skipped: boolean;
      os?: { distro?: string };
      nics: { files: { path: string }[] };
      bootCheck?: { passed: boolean; evidence: string; mac: string };
    };
    expect(summary.skipped).toBe(false);
    // The boot gate: booted on virtio with the NIC's MAC, the guest asked DHCP on that NIC.
    expect(summary.bootCheck).toMatchObject({ passed: true, evidence: 'dhcp', mac: '00:50:56:aa:00:01' });
    expect(JSON.parse(readFileSync(join(target, '.v2v-complete.json'), 'utf8')).result.bootCheck).toMatchObject({ passed: true });
    const disk = join(target, 'disk0', 'disk.img');
    expect(existsSync(disk)).toBe(true);
    expect(existsSync(`${disk}.v2v-partial`)).toBe(false);

    // An independent look at the converted disk.
    const inspected = execFileSync('virt-inspector', ['-a', disk], { env: { ...process.env, ...LIBGUESTFS }, encoding: 'utf8' });
    expect(inspected).toMatch(/<distro>debian<\/distro>/);
    const ifcfg = guestFile(disk, '/etc/sysconfig/network-scripts/ifcfg-eth0');
    expect(ifcfg).toMatch(/^NAME=eth0$/m);
    expect(ifcfg).toMatch(/^DEVICE=eth0$/m);
    expect(ifcfg).not.toMatch(/HWADDR/);
    // vcsim gives the NIC no PCI slot: the single NIC still ties `ens192`, and files and udev agree on eth0.
    expect(guestFile(disk, '/etc/network/interfaces')).toMatch(/^allow-hotplug eth0$/m);
    expect(guestFile(disk, '/etc/udev/rules.d/70-persistent-net.rules')).toMatch(/ATTR\{address\}=="00:50:56:aa:00:01".*NAME="eth0"/);
    const fstab = guestFile(disk, '/etc/fstab');
    expect(fstab).toMatch(/\/dev\/vda1|UUID=/);

    const manifests = readdirSync(join(target, 'manifests')).map((f) => parse(readFileSync(join(target, 'manifests', f), 'utf8')) as { kind: string });
    expect(manifests.map((m) => m.kind).sort()).toContain('VirtualMachine');
    for (const m of manifests) expect(validateObject(m)).toEqual([]);
    const vmObj = manifests.find((m) => m.kind === 'VirtualMachine') as unknown as {
      spec: { template: { spec: { domain: { devices: { interfaces: { macAddress: string }[] } }; volumes: { persistentVolumeClaim: { claimName: string } }[] } } };
    };
    expect(vmObj.spec.template.spec.domain.devices.interfaces[0]?.macAddress).toBe('00:50:56:aa:00:01');
    // The VM boots exactly the claims written beside it, disk<N> into <vm>-disk<N>.
    const claims = manifests.filter((m) => m.kind === 'PersistentVolumeClaim').map((m) => (m as unknown as { metadata: { name: string } }).metadata.name);
    expect(vmObj.spec.template.spec.volumes.map((v) => v.persistentVolumeClaim.claimName)).toEqual(claims);
    expect(claims).toEqual(['dc0-c0-rp0-vm0-disk0']);

    const again = await convert('DC0_C0_RP0_VM0', target);
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { skipped: boolean }).skipped).toBe(true);
  }, 1_800_000);

  it('the boot gate fails, naming what it saw, when the files do not bring up the name the NIC gets', async () => {
    const converted = join(work, 'vm0', 'disk0', 'disk.img');
    const broken = join(work, 'broken.img');
    execFileSync('cp', ['--sparse=always', converted, broken]);
    // Undo the rename in the ifupdown file only: the udev rule still names the NIC eth0, nothing brings eth0 up.
    execFileSync('guestfish', ['-a', broken, '-i', 'write', '/etc/network/interfaces', 'auto lo\niface lo inet loopback\n\nallow-hotplug ens192\niface ens192 inet dhcp\n'], {
      env: { ...process.env, ...LIBGUESTFS },
    });
    const error = await verifyBoot({
      disks: [{ path: broken, format: 'raw' }],
      nic: { mac: '00:50:56:aa:00:01', model: 'virtio' },
      firmware: 'bios',
      env: { ...process.env, ...LIBGUESTFS },
      workDir: work,
      timeoutMs: 240_000,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'BOOT_CHECK_FAILED', details: { evidence: 'none', framesFromMac: 0 } });
    expect((error as Error).message).toContain('00:50:56:aa:00:01');
  }, 600_000);

  it('a powered-on VM is refused with vmware.power_state.on before any copy (exit 3)', async () => {
    const target = join(work, 'vm1');
    const res = await convert('DC0_C0_RP0_VM1', target);
    expect(res.code).toBe(3);
    expect(res.stderr).toContain('vmware.power_state.on');
    expect(existsSync(join(target, 'disk0'))).toBe(false);
  });

  // No VDDK library here: auto copies from the datastore (the VM0 case above keeps VDDK covered).
  it('a guest virt-v2v cannot convert fails with a CONVERSION_ code (exit 1): the copied disk is unchanged, no overlay left', async () => {
    const target = join(work, 'vm2');
    const res = await convert('DC0_C0_RP0_VM2', target, ['--vddk-libdir', join(work, 'no-vddk-here')]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/error CONVERSION_[A-Z_]+:/);
    const disk = join(target, 'disk0', 'disk.img');
    const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
    expect(sha(disk)).toBe(sha(noRootImage));
    expect(readdirSync(target, { recursive: true }).filter((f) => String(f).endsWith('.qcow2'))).toEqual([]);
    expect(existsSync(join(target, '.v2v-complete.json'))).toBe(false);
  }, 900_000);
});
