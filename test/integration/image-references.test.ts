// Images that name files outside themselves, against the real qemu-img: the
// header check refuses them before qemu opens anything, and qemu itself is
// driven so that it follows nothing it can be told not to even when that
// check is bypassed. Self-contained images of every kind still import.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChildProcesses } from '../../src/copy/children.js';
import { refuseExternalReferences } from '../../src/copy/image-references.js';
import { convertToRaw, imageInfo } from '../../src/copy/qemu.js';
import { runCli } from '../helpers/cli.js';
import { imagesIdentical } from '../helpers/disk-images.js';
import { REFERRING_IMAGES } from '../helpers/referring-images.js';

let work: string;
let secretPath: string;
const SECRET = 'image-references-secret-7c1d';

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'v2v-refs-'));
  secretPath = join(work, 'secret.txt');
  writeFileSync(secretPath, `${SECRET}\n`);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

const qemuImg = (...args: string[]) => execFileSync('qemu-img', args, { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const image = (name: string) => REFERRING_IMAGES.find((i) => i.name === name)!;
const formatOf = (file: string) => (file.includes('.qcow2') ? 'qcow2' : 'vmdk');

describe('the header check', () => {
  it.each(REFERRING_IMAGES.filter((i) => !/-(xz|gz)$/.test(i.name)).map((i) => [i.name, i] as const))('refuses %s before qemu opens it', async (_name, kind) => {
    const dir = join(work, `header-${kind.name}`);
    mkdirSync(dir);
    const file = join(dir, kind.build(dir, secretPath));
    await expect(refuseExternalReferences(file, formatOf(file), 'img')).rejects.toMatchObject({
      code: 'IMAGE_UNSUPPORTED',
      message: expect.stringMatching(/refers to files outside itself/),
      details: { references: expect.arrayContaining([expect.objectContaining({ name: expect.stringContaining(secretPath) })]) },
    });
  });
});

describe('qemu-img, when the header check is bypassed', () => {
  it('never opens a qcow2 data file: one that does not exist, which qemu could not open, is still reported', async () => {
    const dir = join(work, 'data-file');
    mkdirSync(dir);
    const file = join(dir, image('qcow2-data-file-raw').build(dir, join(dir, 'no-such-data-file.raw')));
    const info = await imageInfo(file, 'qcow2', 'img', new ChildProcesses());
    expect(info.references).toEqual([{ kind: 'external data file', name: '' }]);
  });

  it('never follows a backing file: the converted disk has none of its bytes', async () => {
    const dir = join(work, 'backing');
    mkdirSync(dir);
    const file = join(dir, image('qcow2-backing').build(dir, secretPath));
    const target = join(dir, 'out.raw');
    writeFileSync(target, Buffer.alloc(1 << 20));
    await convertToRaw({ source: file, format: 'qcow2', target, targetIsZero: false, children: new ChildProcesses() });
    expect(readFileSync(target).includes(SECRET)).toBe(false);
    expect((await imageInfo(file, 'qcow2', 'img', new ChildProcesses())).references).toEqual([{ kind: 'backing file', name: secretPath }]);
  });

  it.each(['vmdk-monolithic-flat', 'vmdk-two-gb-flat', 'vmdk-vmfs', 'vmdk-embedded-descriptor'])('reports what %s names, and the layout is refused', async (name) => {
    const dir = join(work, `qemu-${name}`);
    mkdirSync(dir);
    const file = join(dir, image(name).build(dir, secretPath));
    const refs = (await imageInfo(file, 'vmdk', 'img', new ChildProcesses())).references;
    expect(refs).toContainEqual({ kind: 'extent', name: secretPath });
  });
});

describe('self-contained images still import', () => {
  it.each([
    ['qcow2 (v3)', ['-f', 'qcow2']],
    ['qcow2 (v2, compat 0.10)', ['-f', 'qcow2', '-o', 'compat=0.10']],
    ['qcow2 with 2 MiB clusters', ['-f', 'qcow2', '-o', 'cluster_size=2M']],
    ['vmdk monolithicSparse', ['-f', 'vmdk']],
    ['vmdk streamOptimized', ['-f', 'vmdk', '-o', 'subformat=streamOptimized']],
  ])('%s', async (_name, create) => {
    const dir = mkdtempSync(join(work, 'ok-'));
    const raw = join(dir, 'disk.raw');
    const data = Buffer.alloc(4 << 20);
    for (let i = 0; i < data.length; i += 65536) data.write(`block ${i}`, i);
    writeFileSync(raw, data);
    const img = join(dir, 'disk.img');
    qemuImg('convert', '-f', 'raw', '-O', create[1]!, ...create.slice(2), raw, img);
    const target = join(dir, 'target');
    mkdirSync(target);
    const r = await runCli(['import', '--url', `file://${img}`, '--target', target, '--size', '8Mi']);
    expect(r.code, r.stderr).toBe(0);
    expect(imagesIdentical(raw, join(target, 'disk.img'), 'raw').output).toContain('Images are identical');
  });
});
