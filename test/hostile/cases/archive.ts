// Archives whose relative symlinks are each harmless alone but lead out of the
// target together (item 2 of the security issue). The shapes are generated:
// chains of 2..6 links climbing out of directories 1..4 deep, by `..` or by
// naming a directory, then a file, a directory, a link or a hard link put
// through the chain, or hard-linked from it, or nothing at all; links whose
// meaning a later entry changes; loops; absolute links. Every one must be
// refused as IMAGE_UNSAFE_PATH; the harness checks nothing appears outside
// the target (which sits one level below the case's directory, where every
// chain leads) and that the secret beside it is never linked in.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { startImageServer } from '../../helpers/image-server.js';
import { makeTar } from '../../helpers/registry.js';
import type { HostileCase } from '../harness.js';

type Entry = Parameters<typeof makeTar>[0][number];
type Payload = 'file' | 'directory' | 'symlink' | 'hard link through' | 'hard link to the outside' | 'nothing';

interface Chain {
  depth: number;
  /** Per link: how far up it points from where it really is; the last one reaches one level above the target. */
  climbs: number[];
  /** Point up and back down into the directory by name, instead of `..` only. */
  named: boolean[];
  payload: Payload;
  gzipOverHttp: boolean;
}

const PAYLOADS: Payload[] = ['file', 'directory', 'symlink', 'hard link through', 'hard link to the outside', 'nothing'];

/**
 * A chain whose links are each fine on their own (no link climbs above its own
 * depth as written) but, followed, end one level above the target.
 */
const chainArbitrary: fc.Arbitrary<Chain> = fc
  .record({
    depth: fc.integer({ min: 1, max: 4 }),
    length: fc.integer({ min: 2, max: 6 }),
    seeds: fc.array(fc.nat(1000), { minLength: 6, maxLength: 6 }),
    named: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
    payload: fc.constantFrom(...PAYLOADS),
    gzipOverHttp: fc.boolean(),
  })
  .map(({ depth, length, seeds, named, payload, gzipOverHttp }) => {
    const climbs: number[] = [];
    let physical = depth;
    for (let i = 0; i < length - 1; i++) {
      const climb = seeds[i]! % (physical + 1);
      climbs.push(climb);
      physical -= climb;
    }
    climbs.push(physical + 1);
    return { depth, climbs, named: named.slice(0, length), payload, gzipOverHttp };
  });

const dirNames = (n: number) => Array.from({ length: n }, (_, i) => `d${i + 1}`);

/** The link targets: `..` × climb, or one more `..` and back down into that directory by its name. */
function chainEntries(c: Chain): { entries: Entry[]; through: string; byName: boolean } {
  const dirs = dirNames(c.depth);
  const entries: Entry[] = dirs.map((_, i) => ({ name: `${dirs.slice(0, i + 1).join('/')}/`, type: '5' }));
  let written = dirs.join('/');
  let physical = c.depth;
  let byName = false;
  c.climbs.forEach((climb, i) => {
    const landing = physical - climb;
    const viaName = c.named[i] === true && landing >= 1;
    byName ||= viaName;
    const target = viaName ? [...Array<string>(climb + 1).fill('..'), dirs[landing - 1]!].join('/') : climb ? Array<string>(climb).fill('..').join('/') : '.';
    written = `${written}/l${i + 1}`;
    entries.push({ name: written, type: '2', link: target });
    physical = landing;
  });
  return { entries, through: written, byName };
}

function payloadEntries(payload: Payload, through: string): Entry[] {
  switch (payload) {
    case 'file':
      return [{ name: `${through}/escaped.txt`, data: Buffer.from('written outside the target\n') }];
    case 'directory':
      return [
        { name: `${through}/escaped-dir/`, type: '5' },
        { name: `${through}/escaped-dir/f.txt`, data: Buffer.from('x\n') },
      ];
    case 'symlink':
      return [{ name: `${through}/escaped-link`, type: '2', link: 'anywhere' }];
    case 'hard link through':
      return [
        { name: 'payload.txt', data: Buffer.from('payload\n') },
        { name: `${through}/escaped-hard`, type: '1', link: 'payload.txt' },
      ];
    case 'hard link to the outside':
      return [{ name: 'stolen.txt', type: '1', link: `${through}/secret.txt` }];
    case 'nothing':
      return [];
  }
}

function archiveCase(id: string, what: string, entries: Entry[], gzipOverHttp = false): HostileCase {
  return {
    id: `archive.${id}`,
    item: '2',
    what,
    async setup(ctx) {
      const tar = makeTar(entries);
      const file = gzipOverHttp ? 'links.tar.gz' : 'links.tar';
      writeFileSync(join(ctx.inputs, file), gzipOverHttp ? gzipSync(tar) : tar);
      const target = ['--target', ctx.target, '--content-type', 'archive'];
      if (!gzipOverHttp) return { args: ['import', '--url', `file://${join(ctx.inputs, file)}`, ...target] };
      const server = await startImageServer({ root: ctx.inputs });
      ctx.defer(() => server.close());
      return { args: ['import', '--url', `${server.url}/${file}`, ...target] };
    },
    expect: { code: 'IMAGE_UNSAFE_PATH', exit: 1, stderr: /outside the target|more than \d+ links|points outside its root/ },
  };
}

const describeChain = (c: Chain, byName: boolean) =>
  `${c.climbs.length} links climbing ${c.climbs.join(', ')} from ${c.depth} deep${byName ? ' (some by directory name)' : ''}, then ${c.payload}${c.gzipOverHttp ? ', gzip over HTTP' : ''}`;

const chains = fc.sample(chainArbitrary, { seed: 21, numRuns: 24 });

/** Every payload at least once, whatever the sample drew. */
const covering: Chain[] = PAYLOADS.map((payload, i) => ({ depth: 1 + (i % 3), climbs: [], named: [], payload, gzipOverHttp: i % 2 === 1 })).map((c) => {
  const climbs = [0, ...Array<number>(c.depth - 1).fill(1)].slice(0, Math.max(1, c.depth - 1));
  const used = climbs.reduce((a, b) => a + b, 0);
  return { ...c, climbs: [...climbs, c.depth - used + 1], named: [false, true, false, true] };
});

/** `a/…/L → n/../..` is inside while `n` is missing; `n → ..`, made after it, turns `L` outward. */
function laterChange(depth: number, then: 'file' | 'nothing'): Entry[] {
  const dirs = dirNames(depth + 1).join('/');
  const up = Array<string>(depth).fill('..').join('/');
  return [
    { name: `${dirs}/`, type: '5' },
    { name: `${dirs}/late`, type: '2', link: `n/../${up}/..` },
    { name: `${dirs}/n`, type: '2', link: '..' },
    ...(then === 'file' ? [{ name: `${dirs}/late/escaped.txt`, data: Buffer.from('x\n') }] : []),
  ];
}

export const archiveCases: HostileCase[] = [
  ...[...covering, ...chains].map((c, i) => {
    const { entries, through, byName } = chainEntries(c);
    return archiveCase(`link-chain-${i + 1}`, describeChain(c, byName), [...entries, ...payloadEntries(c.payload, through)], c.gzipOverHttp);
  }),
  archiveCase('later-link-changes-earlier', 'a link made harmless while its name is missing, turned outward by a later link, then a file through it', laterChange(1, 'file')),
  archiveCase('later-link-changes-earlier-deep', 'the same, three directories deep', laterChange(3, 'file')),
  archiveCase('later-link-changes-earlier-alone', 'a link turned outward by a later link, with nothing written through it', laterChange(2, 'nothing')),
  archiveCase('link-loop', 'two links pointing at each other, then a file through them', [
    { name: 'x', type: '2', link: 'y' },
    { name: 'y', type: '2', link: 'x' },
    { name: 'x/escaped.txt', data: Buffer.from('x\n') },
  ]),
  archiveCase('absolute-link-in-chain', 'a relative link to a link to /, then a file through them', [
    { name: 'd1/', type: '5' },
    { name: 'd1/rel', type: '2', link: 'abs' },
    { name: 'd1/abs', type: '2', link: '/' },
    { name: 'd1/rel/escaped.txt', data: Buffer.from('x\n') },
  ]),
];
