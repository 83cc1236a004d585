import { describe, expect, it } from 'vitest';
import { bootCheckArgv, framesFrom } from '../../src/convert/boot-check.js';

const MAC = '00:50:56:aa:00:01';

/** An Ethernet frame from `src`: a DHCP DISCOVER (UDP 68 → 67), or another IPv4/IPv6 packet. */
function frame(src: string, kind: 'dhcp' | 'udp-dns' | 'ipv6'): Buffer {
  const eth = Buffer.alloc(14);
  Buffer.from('ffffffffffff', 'hex').copy(eth, 0);
  Buffer.from(src.replace(/:/g, ''), 'hex').copy(eth, 6);
  if (kind === 'ipv6') {
    eth.writeUInt16BE(0x86dd, 12);
    return Buffer.concat([eth, Buffer.alloc(48)]);
  }
  eth.writeUInt16BE(0x0800, 12);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45; // IPv4, 20-byte header
  ip[9] = 17; // UDP
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(kind === 'dhcp' ? 68 : 40000, 0);
  udp.writeUInt16BE(kind === 'dhcp' ? 67 : 53, 2);
  return Buffer.concat([eth, ip, udp, Buffer.alloc(240)]);
}

/** A pcap as qemu's filter-dump writes it: little-endian, microsecond timestamps. */
function pcap(frames: Buffer[], endian: 'le' | 'be' = 'le'): Buffer {
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    if (endian === 'le') b.writeUInt32LE(v);
    else b.writeUInt32BE(v);
    return b;
  };
  const header = Buffer.concat([u32(0xa1b2c3d4), Buffer.from(endian === 'le' ? [2, 0, 4, 0] : [0, 2, 0, 4]), u32(0), u32(0), u32(65535), u32(1)]);
  return Buffer.concat([header, ...frames.flatMap((f) => [u32(1), u32(0), u32(f.length), u32(f.length), f])]);
}

describe('boot gate: what reached the network from the NIC', () => {
  it.each<[string, Buffer, { frames: number; dhcpRequests: number }]>([
    ['a DHCP request from the MAC', pcap([frame(MAC, 'dhcp')]), { frames: 1, dhcpRequests: 1 }],
    ['big-endian capture', pcap([frame(MAC, 'dhcp')], 'be'), { frames: 1, dhcpRequests: 1 }],
    ['IPv6 only (a static setup brought up)', pcap([frame(MAC, 'ipv6'), frame(MAC, 'udp-dns')]), { frames: 2, dhcpRequests: 0 }],
    ['another MAC asking DHCP', pcap([frame('52:54:00:12:34:56', 'dhcp')]), { frames: 0, dhcpRequests: 0 }],
    ['an empty capture (header only)', pcap([]), { frames: 0, dhcpRequests: 0 }],
    ['no file yet', Buffer.alloc(0), { frames: 0, dhcpRequests: 0 }],
    ['a last record still being written', pcap([frame(MAC, 'dhcp'), frame(MAC, 'dhcp')]).subarray(0, -100), { frames: 1, dhcpRequests: 1 }],
  ])('%s', (_what, capture, expected) => {
    expect(framesFrom(capture, MAC.toUpperCase())).toEqual(expected);
  });
});

describe('boot gate: the qemu command line (golden)', () => {
  it('boots the disks read-only through a snapshot, on virtio, with the NIC model and MAC, capturing the NIC', () => {
    const argv = bootCheckArgv({
      disks: [
        { path: '/t/disk0/disk.img', format: 'raw' },
        { path: '/t/disk1/disk.img', format: 'raw' },
      ],
      nic: { mac: '00-50-56-AA-00-01', model: 'virtio' },
      accel: 'tcg',
      serial: '/w/serial.log',
      pcap: '/w/net.pcap',
      firmware: 'bios',
    });
    expect(argv.join(' ')).toBe(
      [
        '-machine q35,accel=tcg -cpu max -m 1024 -smp 1 -display none -vga std -no-reboot -monitor none -serial file:/w/serial.log',
        '-drive file=/t/disk0/disk.img,format=raw,if=virtio,snapshot=on,cache=unsafe -drive file=/t/disk1/disk.img,format=raw,if=virtio,snapshot=on,cache=unsafe',
        '-netdev user,id=net0 -device virtio-net-pci,netdev=net0,mac=00:50:56:aa:00:01 -object filter-dump,id=dump0,netdev=net0,file=/w/net.pcap',
      ].join(' '),
    );
    const efi = bootCheckArgv({ disks: [{ path: '/d', format: 'raw' }], nic: { mac: MAC, model: 'e1000e' }, accel: 'kvm', serial: '/s', pcap: '/p', firmware: 'efi' });
    expect(efi).toEqual(expect.arrayContaining(['host', '-bios', '/usr/share/ovmf/OVMF.fd', 'e1000e,netdev=net0,mac=00:50:56:aa:00:01']));
  });
});
