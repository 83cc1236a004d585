import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LibvirtConnection, LibvirtError, powerStateOf, validateDomainXml } from '../../native/libvirt.js';

// libvirt's test driver, in-process: test:///default and test:///path/host.xml.
const HOST_XML = `<node>
  <cpu><mhz>2400</mhz><model>x86_64</model></cpu>
  <memory>8388608</memory>
  <domain type="test">
    <name>web</name>
    <uuid>8e2c2f2a-5b1a-4d7e-9a4e-0f2f6f0b0a01</uuid>
    <memory unit="MiB">2048</memory>
    <vcpu>2</vcpu>
    <os><type arch="x86_64">hvm</type></os>
    <devices>
      <disk type="file" device="disk"><source file="/var/lib/v2v/web.img"/><target dev="sda" bus="scsi"/></disk>
      <interface type="network"><mac address="00:50:56:aa:bb:01"/><source network="default"/><model type="vmxnet3"/></interface>
    </devices>
  </domain>
  <domain type="test">
    <name>db</name>
    <uuid>8e2c2f2a-5b1a-4d7e-9a4e-0f2f6f0b0a02</uuid>
    <memory unit="MiB">4096</memory>
    <vcpu>4</vcpu>
    <os><type arch="x86_64">hvm</type></os>
  </domain>
</node>
`;

const CONVERTED = (name: string, disk: string) => `<domain type="kvm">
  <name>${name}</name>
  <memory unit="MiB">2048</memory>
  <vcpu>2</vcpu>
  <os><type arch="x86_64" machine="pc">hvm</type></os>
  <devices>
    <disk type="file" device="disk"><driver name="qemu" type="qcow2"/><source file="${disk}"/><target dev="sda" bus="scsi"/></disk>
  </devices>
</domain>`;

describe('libvirt through koffi (test driver)', () => {
  it('lists the domains of a test:///host.xml with their state and UUID, and reads one domain XML', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'v2v-libvirt-'));
    const host = join(dir, 'host.xml');
    writeFileSync(host, HOST_XML);
    const conn = await LibvirtConnection.open(`test://${host}`);
    try {
      const domains = await conn.listDomains();
      expect(domains.map((d) => [d.name, d.uuid, d.state, d.powerState])).toEqual([
        ['db', '8e2c2f2a-5b1a-4d7e-9a4e-0f2f6f0b0a02', 'running', 'on'],
        ['web', '8e2c2f2a-5b1a-4d7e-9a4e-0f2f6f0b0a01', 'running', 'on'],
      ]);
      const xml = await conn.xml('web');
      expect(xml).toContain("<mac address='00:50:56:aa:bb:01'/>");
      expect(xml).toContain("<source file='/var/lib/v2v/web.img'/>");
      expect((await conn.domain('8e2c2f2a-5b1a-4d7e-9a4e-0f2f6f0b0a02')).name).toBe('db');
      const missing = await conn.domain('no-such-vm').catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(LibvirtError);
      expect((missing as LibvirtError).code).toBe('VM_NOT_FOUND');
      expect((missing as LibvirtError).message).toContain('Domain not found');
    } finally {
      await conn.close();
    }
  });

  it('validates a generated domain XML by defining it on test:///default, and names invalid XML', async () => {
    const normalized = await validateDomainXml(CONVERTED('converted-vm', '/mnt/disks/disk0/disk.img'));
    expect(normalized).toContain('<name>converted-vm</name>');
    expect(normalized).toMatch(/<uuid>[0-9a-f-]{36}<\/uuid>/);
    // Nothing is left defined.
    const conn = await LibvirtConnection.open('test:///default');
    try {
      expect((await conn.listDomains()).map((d) => d.name)).not.toContain('converted-vm');
    } finally {
      await conn.close();
    }
    const broken = await validateDomainXml('<domain type="kvm"><name>x</name>').catch((e: unknown) => e);
    expect(broken).toBeInstanceOf(LibvirtError);
    expect((broken as LibvirtError).code).toBe('LIBVIRT_XML_INVALID');
    const unsupported = await validateDomainXml(CONVERTED('bad-bus', '/d.img').replace('bus="scsi"', 'bus="floppy-ish"')).catch((e: unknown) => e);
    expect(unsupported).toBeInstanceOf(LibvirtError);
    expect((unsupported as LibvirtError).message).toMatch(/floppy-ish/);
  });

  it("reports a URI that cannot be opened with libvirt's message", async () => {
    const err = await LibvirtConnection.open('test:///nonexistent/host.xml').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LibvirtError);
    expect((err as LibvirtError).message).toMatch(/nonexistent\/host\.xml/);
  });

  it.each([
    ['running', 'on'],
    ['paused', 'on'],
    ['shutoff', 'off'],
    ['pmsuspended', 'suspended'],
    ['crashed', 'unknown'],
  ] as const)('domain state %s is power state %s', (state, power) => {
    expect(powerStateOf(state)).toBe(power);
  });
});

// libvirt's ESX driver speaks vim25, so vcsim (-esx) can stand in for an ESXi
// host: the credentials must travel through the auth callback to vcsim's Login.
// vcsim's `XMLSchema-instance:type` prefix (SPEC §8) then stops the driver
// after login, which is as far as this peer can take it.
describe('libvirt esx:// against vcsim (auth callback)', () => {
  it('sends the username and password through the auth callback: the right ones pass Login, a wrong password is SOURCE_AUTH_FAILED', async () => {
    const { startVcsim } = await import('../helpers/vcsim.js');
    const vcsim = await startVcsim({ esx: true, vm: 1, username: 'root', password: 'Esx-Passw0rd!' });
    try {
      const uri = `esx://127.0.0.1:${new URL(vcsim.url).port}/?no_verify=1`;
      const wrong = await LibvirtConnection.open(uri, { username: 'root', password: 'not-the-password' }).catch((e: unknown) => e);
      expect(wrong).toBeInstanceOf(LibvirtError);
      expect((wrong as LibvirtError).code).toBe('SOURCE_AUTH_FAILED');
      expect((wrong as LibvirtError).message).toContain('Login failure');
      const right = await LibvirtConnection.open(uri, { username: 'root', password: 'Esx-Passw0rd!' }).then(
        async (c) => {
          await c.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      // Past Login: either connected, or stopped by vcsim's type prefix — never a login failure.
      if (right) expect((right as LibvirtError).message).not.toContain('Login failure');
    } finally {
      await vcsim.stop();
    }
  }, 120_000);
});
