import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { externalReferences } from '../../src/copy/image-references.js';

/** A qcow2 header as qemu-img writes one: v3 (104 bytes + extensions) or v2 (72 bytes). */
function qcow2(o: { version?: 2 | 3; backing?: string; incompatible?: bigint; extensions?: [number, Buffer][] } = {}): Buffer {
  const version = o.version ?? 3;
  const buf = Buffer.alloc(65536);
  buf.write('QFI\xfb', 0, 'latin1');
  buf.writeUInt32BE(version, 4);
  buf.writeUInt32BE(16, 20); // 64 KiB clusters
  buf.writeBigUInt64BE(1n << 20n, 24);
  let at = version === 3 ? 104 : 72;
  if (version === 3) {
    buf.writeBigUInt64BE(o.incompatible ?? 0n, 72);
    buf.writeUInt32BE(4, 96);
    buf.writeUInt32BE(104, 100);
  }
  for (const [type, data] of o.extensions ?? []) {
    buf.writeUInt32BE(type, at);
    buf.writeUInt32BE(data.length, at + 4);
    data.copy(buf, at + 8);
    at += 8 + Math.ceil(data.length / 8) * 8;
  }
  at += 8; // the end extension
  if (o.backing) {
    buf.writeBigUInt64BE(BigInt(at), 8);
    buf.writeUInt32BE(o.backing.length, 16);
    buf.write(o.backing, at);
  }
  return buf;
}

const BACKING_FORMAT = 0xe2792aca;
const DATA_FILE = 0x44415441;

describe('qcow2 references', () => {
  it('a plain image names nothing', () => expect(externalReferences('qcow2', qcow2())).toEqual([]));
  it('a backing file', () => expect(externalReferences('qcow2', qcow2({ backing: '/etc/shadow' }))).toEqual([{ kind: 'backing file', name: '/etc/shadow' }]));
  it('an external data file: the feature bit and its name', () =>
    expect(externalReferences('qcow2', qcow2({ incompatible: 4n, extensions: [[DATA_FILE, Buffer.from('/var/run/secrets/token')]] }))).toEqual([
      { kind: 'external data file', name: '/var/run/secrets/token' },
    ]));
  it('the feature bit alone', () => expect(externalReferences('qcow2', qcow2({ incompatible: 4n }))).toEqual([{ kind: 'external data file', name: '' }]));
  it('the name alone', () =>
    expect(externalReferences('qcow2', qcow2({ extensions: [[DATA_FILE, Buffer.from('x.raw')]] }))).toEqual([{ kind: 'external data file', name: 'x.raw' }]));
  it('a json: backing name', () => expect(externalReferences('qcow2', qcow2({ backing: 'json:{"driver":"file","filename":"/etc/hosts"}' }))[0]?.name).toMatch(/^json:/));
  it('v2 has no feature bits: its first extension is not read as one', () => {
    // A backing-format extension of "qcow2" puts length 5 (bit 2 set) where v3 keeps incompatible features.
    expect(externalReferences('qcow2', qcow2({ version: 2, extensions: [[BACKING_FORMAT, Buffer.from('qcow2')]] }))).toEqual([]);
  });
});

function kdmv(o: { capacity?: bigint; descriptorSector?: bigint; descriptor?: string } = {}): Buffer {
  const buf = Buffer.alloc(64 * 1024);
  buf.write('KDMV', 0, 'latin1');
  buf.writeUInt32LE(1, 4);
  buf.writeBigUInt64LE(o.capacity ?? 2048n, 12);
  buf.writeBigUInt64LE(128n, 20);
  buf.writeBigUInt64LE(o.descriptorSector ?? 1n, 28);
  buf.writeBigUInt64LE(20n, 36);
  if (o.descriptor) buf.write(o.descriptor, Number(o.descriptorSector ?? 1n) * 512, 'latin1');
  return buf;
}

const sparseDescriptor = '# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType="monolithicSparse"\nRW 2048 SPARSE "disk.vmdk"\n';

describe('vmdk references', () => {
  it('monolithicSparse and streamOptimized are their own only extent', () => expect(externalReferences('vmdk', kdmv({ descriptor: sparseDescriptor }))).toEqual([]));
  it('a sparse header with no capacity hands itself to its descriptor', () =>
    expect(
      externalReferences(
        'vmdk',
        kdmv({ capacity: 0n, descriptor: sparseDescriptor.replace('monolithicSparse', 'monolithicFlat').replace('SPARSE "disk.vmdk"', 'FLAT "/etc/shadow" 0') }),
      ),
    ).toEqual([{ kind: 'FLAT extent', name: '/etc/shadow' }]));
  it('…even when that descriptor lies past the bytes read', () =>
    expect(externalReferences('vmdk', kdmv({ capacity: 0n, descriptorSector: 1n << 40n }))).toEqual([{ kind: expect.stringMatching(/descriptor/), name: '' }]));
  it('a parent disk', () =>
    expect(externalReferences('vmdk', kdmv({ descriptor: sparseDescriptor + 'parentFileNameHint="base.vmdk"\n' }))).toEqual([{ kind: 'parent disk', name: 'base.vmdk' }]));
  it('a descriptor file names its extents', () =>
    expect(externalReferences('vmdk', Buffer.from('# Disk DescriptorFile\ncreateType="twoGbMaxExtentFlat"\nRW 4192256 FLAT "d-f001.vmdk" 0\nRW 2048 VMFS "/dev/sda"\n'))).toEqual([
      { kind: 'FLAT extent', name: 'd-f001.vmdk' },
      { kind: 'VMFS extent', name: '/dev/sda' },
    ]));
  it('a descriptor file is refused even when no extent line parses', () => expect(externalReferences('vmdk', Buffer.from('# Disk DescriptorFile\n'))).toHaveLength(1));
});

describe('externalReferences never throws', () => {
  const prefixed = (magic: string) => fc.uint8Array({ maxLength: 4096 }).map((tail) => Buffer.concat([Buffer.from(magic, 'latin1'), Buffer.from(tail)]));
  it.each([
    ['qcow2', 'QFI\xfb'],
    ['vmdk', 'KDMV'],
    ['vmdk', 'COWD'],
    ['vmdk', '# Disk DescriptorFile\n'],
    ['vmdk', ''],
  ] as const)('%s starting %j', (format, magic) => {
    fc.assert(
      fc.property(prefixed(magic), (head) => {
        expect(Array.isArray(externalReferences(format, head))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
  it('a real header with any bytes changed', () => {
    const base = qcow2({ backing: 'base.qcow2', incompatible: 4n, extensions: [[DATA_FILE, Buffer.from('d.raw')]] }).subarray(0, 512);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(511), fc.nat(255)), { maxLength: 16 }), (edits) => {
        const head = Buffer.from(base);
        for (const [at, value] of edits) head[at] = value;
        externalReferences('qcow2', head);
      }),
      { numRuns: 2000 },
    );
  });
});
