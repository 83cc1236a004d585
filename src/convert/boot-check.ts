// The boot gate: boot the converted disks in qemu the way KubeVirt will (virtio
// disks, the target NIC model and MAC on a user-mode network) and watch the
// network. A guest that brings its NIC up under the name the files configure
// talks on it (a DHCP request, or IPv6/ARP from a static setup); a guest whose
// NIC came up under a name nothing configures stays silent. The disks are
// opened with `snapshot=on`: the boot writes to a throwaway overlay, never to
// the converted disk.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.js';
import { detectAcceleration } from './accel.js';
import { ConversionError } from './errors.js';
import { normalizeMac } from './nics.js';

export interface BootCheckOptions {
  disks: { path: string; format: 'raw' | 'qcow2' }[];
  /** The NIC whose bring-up is the proof, as the VirtualMachine will present it. */
  nic: { mac: string; model: 'virtio' | 'e1000e' };
  firmware: 'bios' | 'efi';
  env: Readonly<NodeJS.ProcessEnv>;
  workDir: string;
  /** How long the guest may take to talk on its NIC (TCG boots take a minute or two). */
  timeoutMs?: number;
  signal?: AbortSignal;
  logger?: Logger;
}

export interface BootCheckResult {
  passed: boolean;
  mac: string;
  /** What proved it: a DHCP request from the MAC, or any frame from it. */
  evidence: 'dhcp' | 'traffic' | 'none';
  dhcpRequests: number;
  framesFromMac: number;
  accel: 'kvm' | 'tcg';
  seconds: number;
  /** The end of the serial console, for the report and the error. */
  consoleTail: string;
}

/** The qemu command line of the gate (pure, golden-tested). */
export function bootCheckArgv(o: {
  disks: BootCheckOptions['disks'];
  nic: BootCheckOptions['nic'];
  accel: 'kvm' | 'tcg';
  serial: string;
  pcap: string;
  firmware: 'bios' | 'efi';
}): string[] {
  const device = o.nic.model === 'virtio' ? 'virtio-net-pci' : 'e1000e';
  return [
    '-machine',
    `q35,accel=${o.accel}`,
    '-cpu',
    o.accel === 'kvm' ? 'host' : 'max',
    '-m',
    '1024',
    '-smp',
    '1',
    '-display',
    'none',
    '-vga',
    'std',
    '-no-reboot',
    '-monitor',
    'none',
    '-serial',
    `file:${o.serial}`,
    ...(o.firmware === 'efi' ? ['-bios', '/usr/share/ovmf/OVMF.fd'] : []),
    ...o.disks.flatMap((d) => ['-drive', `file=${d.path},format=${d.format},if=virtio,snapshot=on,cache=unsafe`]),
    '-netdev',
    'user,id=net0',
    '-device',
    `${device},netdev=net0,mac=${normalizeMac(o.nic.mac)}`,
    '-object',
    `filter-dump,id=dump0,netdev=net0,file=${o.pcap}`,
  ];
}

/** Frames in a pcap (what qemu's filter-dump writes) sent by `mac`, and how many of them are DHCP requests. */
export function framesFrom(pcap: Buffer, mac: string): { frames: number; dhcpRequests: number } {
  const want = Buffer.from(
    normalizeMac(mac)
      .split(':')
      .map((h) => parseInt(h, 16)),
  );
  const out = { frames: 0, dhcpRequests: 0 };
  if (pcap.length < 24) return out;
  const magic = pcap.readUInt32LE(0);
  const little = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!little && pcap.readUInt32BE(0) !== 0xa1b2c3d4 && pcap.readUInt32BE(0) !== 0xa1b23c4d) return out;
  const u32 = (at: number): number => (little ? pcap.readUInt32LE(at) : pcap.readUInt32BE(at));
  for (let at = 24; at + 16 <= pcap.length;) {
    const captured = u32(at + 8);
    // qemu may be half-way through writing the last record: read it on the next poll.
    if (at + 16 + captured > pcap.length) break;
    const frame = pcap.subarray(at + 16, at + 16 + captured);
    at += 16 + captured;
    if (frame.length < 14 || !frame.subarray(6, 12).equals(want)) continue;
    out.frames++;
    // Ethernet → IPv4 (0x0800) → UDP (17) from port 68 to port 67: a DHCP client asking.
    if (frame.readUInt16BE(12) !== 0x0800 || frame.length < 14 + 20 + 8) continue;
    const ihl = (frame[14]! & 0x0f) * 4;
    const udp = 14 + ihl;
    if (frame[14 + 9] === 17 && frame.length >= udp + 4 && frame.readUInt16BE(udp) === 68 && frame.readUInt16BE(udp + 2) === 67) out.dhcpRequests++;
  }
  return out;
}

/**
 * Boots the disks and waits until the NIC talks (pass) or the timeout (BOOT_CHECK_FAILED,
 * naming what was seen). KVM when it is usable, TCG otherwise.
 */
export async function verifyBoot(o: BootCheckOptions): Promise<BootCheckResult> {
  const started = performance.now();
  const accel = (await detectAcceleration(o.env)).forceTcg ? 'tcg' : 'kvm';
  const work = await mkdtemp(join(o.workDir, 'v2v-boot-'));
  const serial = join(work, 'serial.log');
  const pcap = join(work, 'net.pcap');
  const argv = bootCheckArgv({ disks: o.disks, nic: o.nic, accel, serial, pcap, firmware: o.firmware });
  o.logger?.info({ accel, mac: o.nic.mac }, 'boot gate: booting the converted disks');
  const child = spawn('qemu-system-x86_64', argv, { stdio: ['ignore', 'ignore', 'pipe'], env: o.env });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  let exited = false;
  const exit = new Promise<void>((resolve) => child.on('close', () => ((exited = true), resolve())));
  const read = async (path: string): Promise<Buffer> => readFile(path).catch(() => Buffer.alloc(0));
  const deadline = Date.now() + (o.timeoutMs ?? 300_000);
  let firstFrameAt: number | undefined;
  try {
    while (!exited && Date.now() < deadline && !o.signal?.aborted) {
      const sofar = framesFrom(await read(pcap), o.nic.mac);
      if (sofar.dhcpRequests > 0) break;
      // Any frame means the interface is up; a static setup never asks DHCP, so give it a moment, then stop.
      if (sofar.frames > 0) firstFrameAt ??= Date.now();
      if (firstFrameAt !== undefined && Date.now() - firstFrameAt > 10_000) break;
      await sleep(500);
    }
  } finally {
    if (!exited) child.kill('SIGKILL');
    await exit;
  }
  o.signal?.throwIfAborted();
  const seen = framesFrom(await read(pcap), o.nic.mac);
  const consoleText = (await read(serial)).toString('utf8');
  await rm(work, { recursive: true, force: true });
  const consoleTail = consoleText.split('\n').slice(-15).join('\n').trim();
  const evidence = seen.dhcpRequests > 0 ? 'dhcp' : seen.frames > 0 ? 'traffic' : 'none';
  const result: BootCheckResult = {
    passed: evidence !== 'none',
    mac: normalizeMac(o.nic.mac),
    evidence,
    dhcpRequests: seen.dhcpRequests,
    framesFromMac: seen.frames,
    accel,
    seconds: Math.round((performance.now() - started) / 100) / 10,
    consoleTail,
  };
  o.logger?.info({ ...result, consoleTail: undefined }, `boot gate: ${result.passed ? 'passed' : 'failed'}`);
  if (!result.passed) {
    throw new ConversionError(
      'BOOT_CHECK_FAILED',
      `the converted guest did not bring up its NIC ${result.mac} within ${Math.round((o.timeoutMs ?? 300_000) / 1000)} s (${accel}): no frame from that MAC reached the network${consoleTail ? `; the console ended with: ${consoleTail.split('\n').slice(-3).join(' | ')}` : '; the console stayed silent'}${stderr.trim() ? `; qemu said: ${stderr.trim().split('\n').slice(-2).join(' | ')}` : ''}`,
      { hint: 'the interface name the guest configures is not the one the NIC gets: see the NIC warnings, or convert with --nic-naming keep', details: { ...result } },
    );
  }
  return result;
}
