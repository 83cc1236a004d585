// Archive extraction against generated archives of directories, files and
// relative links, checked with an oracle that is not ours (coreutils'
// `realpath -m`, which resolves links as the kernel does and takes missing
// names as written): whatever the archive, nothing appears beside the target,
// no link left in the target leads out of it, and a refusal is a named error.
import { execFileSync, spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractArchive } from '../../src/copy/archive.js';
import { CopyError } from '../../src/copy/errors.js';
import { openLocalFile } from '../../src/copy/local-file.js';
import { makeTar } from '../helpers/registry.js';
import { runCli } from '../helpers/cli.js';

type Entry = Parameters<typeof makeTar>[0][number];

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'v2v-archive-links-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Every path under `dir`, links not followed. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      out.push(relative(dir, path));
      if (lstatSync(path).isDirectory()) walk(path);
    }
  };
  walk(dir);
  return out.sort();
}

const NAMES = ['a', 'b', 'l', 'm'];
const name = fc.array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/'));
const linkTarget = fc.oneof(
  { weight: 12, arbitrary: fc.array(fc.constantFrom('..', '..', '.', ...NAMES), { minLength: 1, maxLength: 5 }).map((parts) => parts.join('/')) },
  { weight: 1, arbitrary: fc.constantFrom('/', '/etc', '/tmp/..') },
);
const entry: fc.Arbitrary<Entry> = fc.oneof(
  { weight: 2, arbitrary: name.map((n): Entry => ({ name: `${n}/`, type: '5' })) },
  { weight: 3, arbitrary: name.map((n): Entry => ({ name: n, data: Buffer.from(`file ${n}\n`) })) },
  { weight: 6, arbitrary: fc.tuple(name, linkTarget).map(([n, link]): Entry => ({ name: n, type: '2', link })) },
  { weight: 1, arbitrary: fc.tuple(name, name).map(([n, link]): Entry => ({ name: n, type: '1', link })) },
);

/** Where `realpath -m` takes a link: undefined for a loop, which leads nowhere. */
function realpathOf(path: string): string | undefined {
  const r = spawnSync('realpath', ['-m', '--', path], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

describe('generated archives of links', () => {
  it('never put anything beside the target, never leave a link leading out, and refuse only with a named error', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 14 }), async (entries) => {
        const sandbox = join(work, `run-${++run}`);
        const target = join(sandbox, 'deep', 'target');
        mkdirSync(target, { recursive: true });
        writeFileSync(join(sandbox, 'secret.txt'), 'secret\n');
        const tarPath = join(work, `run-${run}.tar`);
        writeFileSync(tarPath, makeTar(entries));
        const before = tree(sandbox).filter((p) => !p.startsWith(`deep${sep}target${sep}`));
        try {
          await extractArchive(await openLocalFile(tarPath), target);
        } catch (e) {
          expect(e).toBeInstanceOf(CopyError);
          expect((e as CopyError).code).toMatch(/^IMAGE_(UNSAFE_PATH|UNSUPPORTED)$/);
        }
        expect(tree(sandbox).filter((p) => !p.startsWith(`deep${sep}target${sep}`))).toEqual(before);
        for (const path of tree(target)) {
          const full = join(target, path);
          if (!lstatSync(full).isSymbolicLink()) continue;
          const to = realpathOf(full);
          if (to !== undefined) expect(`${to}${sep}`.startsWith(`${target}${sep}`) || to === target, `${path} → ${to}`).toBe(true);
        }
        rmSync(sandbox, { recursive: true, force: true });
        rmSync(tarPath, { force: true });
      }),
      { numRuns: 300 },
    );
  }, 120_000);
});

describe('links that stay inside', () => {
  it('are kept, and files go through them as tar puts them', async () => {
    const target = join(work, 'usrmerge');
    mkdirSync(target);
    const tarPath = join(work, 'usrmerge.tar');
    writeFileSync(
      tarPath,
      makeTar([
        { name: 'bin', type: '2', link: 'usr/bin' },
        { name: 'lib', type: '2', link: 'usr/lib' },
        { name: 'usr/', type: '5' },
        { name: 'usr/bin/', type: '5' },
        { name: 'usr/lib/', type: '5' },
        { name: 'lib/libx.so.1', data: Buffer.from('library\n') },
        { name: 'usr/lib/libx.so', type: '2', link: 'libx.so.1' },
        { name: 'bin/tool', data: Buffer.from('#!/bin/sh\n') },
        { name: 'usr/share/doc/x/copyright', type: '2', link: '../../../../lib/libx.so.1' },
      ]),
    );
    const r = await runCli(['import', '--url', `file://${tarPath}`, '--target', target, '--content-type', 'archive']);
    expect(r.code, r.stderr).toBe(0);
    expect(tree(target)).toEqual([
      'bin',
      'lib',
      'usr',
      'usr/bin',
      'usr/bin/tool',
      'usr/lib',
      'usr/lib/libx.so',
      'usr/lib/libx.so.1',
      'usr/share',
      'usr/share/doc',
      'usr/share/doc/x',
      'usr/share/doc/x/copyright',
    ]);
    expect(execFileSync('cat', [join(target, 'usr/share/doc/x/copyright')]).toString()).toBe('library\n');
  });
});
