// Images that name a file outside themselves, each made with the real
// qemu-img (or written as VMware writes a descriptor): qcow2 backing files and
// external data files, VMDK descriptors and their extents, a sparse VMDK that
// hands itself to an embedded descriptor, a VMDK parent. Imported naively, each
// copies the file it names into the disk.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface ReferringImage {
  /** Stable, for case ids. */
  name: string;
  what: string;
  /** Writes the image into `dir`, naming `refer` (a path, absolute or relative to where qemu will find the image), and returns its file name. */
  build(dir: string, refer: string): string;
}

function qemuImg(dir: string, ...args: string[]): void {
  execFileSync('qemu-img', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A name qemu-img can create in `dir` with exactly `refer`'s length, to be swapped for it in the image afterwards. */
const placeholder = (refer: string) => 'p'.repeat(Buffer.byteLength(refer));

/** Replaces the one occurrence of `from` in the file by `to` (same length). */
function patch(path: string, from: string, to: string): void {
  const buf = readFileSync(path);
  const at = buf.indexOf(from);
  if (at === -1 || Buffer.byteLength(from) !== Buffer.byteLength(to)) throw new Error(`cannot patch ${path}`);
  buf.write(to, at);
  writeFileSync(path, buf);
}

/** `json:` pseudo-filename qemu follows as a backing file: the raw driver over the file driver. */
export const jsonFilename = (path: string) => `json:${JSON.stringify({ driver: 'raw', file: { driver: 'file', filename: path } })}`;

/** A descriptor as VMware writes one, disk database included: over 512 bytes, as real ones are. */
function descriptor(createType: string, extents: string[], extra = ''): string {
  return [
    '# Disk DescriptorFile',
    'version=1',
    'encoding="UTF-8"',
    'CID=fffffffe',
    'parentCID=ffffffff',
    `createType="${createType}"`,
    '',
    '# Extent description',
    ...extents,
    '',
    extra,
    '# The Disk Data Base',
    '#DDB',
    '',
    'ddb.adapterType = "lsilogic"',
    'ddb.geometry.cylinders = "1"',
    'ddb.geometry.heads = "255"',
    'ddb.geometry.sectors = "63"',
    'ddb.longContentID = "8f5a1c2b3d4e5f60718293a4b5c6d7e8"',
    'ddb.uuid = "60 00 C2 9a 3b 4c 5d 6e-7f 80 91 a2 b3 c4 d5 e6"',
    'ddb.virtualHWVersion = "14"',
    'ddb.toolsInstallType = "4"',
    'ddb.toolsVersion = "12352"',
    'ddb.thinProvisioned = "1"',
    'ddb.deletable = "true"',
    'ddb.encoding = "UTF-8"',
    'ddb.iofilters = ""',
    'ddb.sidecars = ""',
    '',
  ].join('\n');
}

/** A monolithicSparse VMDK whose embedded descriptor (sector 1) is replaced; `capacity0` makes qemu take its extents from it. */
function sparseWithDescriptor(dir: string, file: string, text: string, capacity0: boolean): void {
  qemuImg(dir, 'create', '-f', 'vmdk', file, '1M');
  const buf = readFileSync(join(dir, file));
  const region = buf.subarray(0x200, 0x200 + 20 * 512);
  region.fill(0);
  region.write(text, 'latin1');
  if (capacity0) buf.writeBigUInt64LE(0n, 12);
  writeFileSync(join(dir, file), buf);
}

export const REFERRING_IMAGES: ReferringImage[] = [
  {
    name: 'qcow2-backing',
    what: 'a qcow2 whose backing file is the local file',
    build(dir, refer) {
      qemuImg(dir, 'create', '-f', 'qcow2', '-u', '-b', refer, '-F', 'raw', 'backing.qcow2', '1M');
      return 'backing.qcow2';
    },
  },
  {
    name: 'qcow2-backing-json',
    what: 'a qcow2 whose backing file is a json: pseudo-filename opening the local file',
    build(dir, refer) {
      const name = jsonFilename(refer);
      qemuImg(dir, 'create', '-f', 'qcow2', '-u', '-b', placeholder(name), '-F', 'raw', 'backing-json.qcow2', '1M');
      patch(join(dir, 'backing-json.qcow2'), placeholder(name), name);
      return 'backing-json.qcow2';
    },
  },
  {
    name: 'qcow2-data-file-raw',
    what: 'a qcow2 whose external raw data file is the local file',
    build(dir, refer) {
      qemuImg(dir, 'create', '-f', 'qcow2', '-o', `data_file=${placeholder(refer)},data_file_raw=on`, 'data-raw.qcow2', '1M');
      patch(join(dir, 'data-raw.qcow2'), placeholder(refer), refer);
      return 'data-raw.qcow2';
    },
  },
  {
    name: 'qcow2-data-file',
    what: 'a qcow2 with allocated clusters in an external data file, which is the local file',
    build(dir, refer) {
      writeFileSync(join(dir, 'clusters.raw'), Buffer.alloc(65536, 0x5a));
      qemuImg(dir, 'convert', '-f', 'raw', '-O', 'qcow2', '-o', `data_file=${placeholder(refer)}`, 'clusters.raw', 'data.qcow2');
      patch(join(dir, 'data.qcow2'), placeholder(refer), refer);
      return 'data.qcow2';
    },
  },
  {
    name: 'qcow2-data-file-json',
    what: 'a qcow2 whose external data file is a json: pseudo-filename',
    build(dir, refer) {
      const name = jsonFilename(refer);
      qemuImg(dir, 'create', '-f', 'qcow2', '-o', `data_file=${placeholder(name)},data_file_raw=on`, 'data-json.qcow2', '1M');
      patch(join(dir, 'data-json.qcow2'), placeholder(name), name);
      return 'data-json.qcow2';
    },
  },
  {
    name: 'qcow2-data-file-raw-xz',
    what: 'an xz-compressed qcow2 whose external raw data file is the local file',
    build(dir, refer) {
      const file = REFERRING_IMAGES.find((i) => i.name === 'qcow2-data-file-raw')!.build(dir, refer);
      execFileSync('xz', ['-0', '-k', '-f', file], { cwd: dir });
      return `${file}.xz`;
    },
  },
  {
    name: 'qcow2-data-file-gz',
    what: 'a gzip-compressed qcow2 with clusters in an external data file, which is the local file',
    build(dir, refer) {
      const file = REFERRING_IMAGES.find((i) => i.name === 'qcow2-data-file')!.build(dir, refer);
      writeFileSync(join(dir, `${file}.gz`), gzipSync(readFileSync(join(dir, file))));
      return `${file}.gz`;
    },
  },
  {
    name: 'vmdk-monolithic-flat',
    what: 'a monolithicFlat VMDK descriptor whose FLAT extent is the local file',
    build(dir, refer) {
      writeFileSync(join(dir, 'flat.vmdk'), descriptor('monolithicFlat', [`RW 2048 FLAT "${refer}" 0`]));
      return 'flat.vmdk';
    },
  },
  {
    name: 'vmdk-two-gb-flat',
    what: 'a twoGbMaxExtentFlat VMDK descriptor whose extents are the local file',
    build(dir, refer) {
      writeFileSync(join(dir, 'twogb.vmdk'), descriptor('twoGbMaxExtentFlat', [`RW 1024 FLAT "${refer}" 0`, `RW 1024 FLAT "${refer}" 0`]));
      return 'twogb.vmdk';
    },
  },
  {
    name: 'vmdk-vmfs',
    what: 'a vmfs VMDK descriptor whose VMFS extent is the local file',
    build(dir, refer) {
      writeFileSync(join(dir, 'vmfs.vmdk'), descriptor('vmfs', [`RW 2048 VMFS "${refer}"`]));
      return 'vmfs.vmdk';
    },
  },
  {
    name: 'vmdk-two-gb-sparse',
    what: 'a twoGbMaxExtentSparse VMDK descriptor whose SPARSE extent is the local file',
    build(dir, refer) {
      writeFileSync(join(dir, 'sparse-desc.vmdk'), descriptor('twoGbMaxExtentSparse', [`RW 2048 SPARSE "${refer}"`]));
      return 'sparse-desc.vmdk';
    },
  },
  {
    name: 'vmdk-embedded-descriptor',
    what: 'a sparse VMDK (KDMV) with no capacity, whose embedded descriptor names the local file as a FLAT extent',
    build(dir, refer) {
      sparseWithDescriptor(dir, 'embedded.vmdk', descriptor('monolithicFlat', [`RW 2048 FLAT "${refer}" 0`]), true);
      return 'embedded.vmdk';
    },
  },
  {
    name: 'vmdk-parent',
    what: 'a monolithicSparse VMDK whose parentFileNameHint is the local file',
    build(dir, refer) {
      sparseWithDescriptor(
        dir,
        'child.vmdk',
        descriptor('monolithicSparse', ['RW 2048 SPARSE "child.vmdk"'], `parentFileNameHint="${refer}"`).replace('parentCID=ffffffff', 'parentCID=12345678'),
        false,
      );
      return 'child.vmdk';
    },
  },
];
