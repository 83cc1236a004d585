import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

// The import graph of the product's own files, and the layering rules of
// ARCHITECTURE.md as data. Pure functions over a graph, so the rules are
// tested on small graphs and then held against the real one.

/** file → the product files it imports (paths relative to the repo, `.ts`). */
export type ImportGraph = Map<string, string[]>;

export interface Layer {
  name: string;
  /** Which files belong to it; the first layer that matches a file owns it. */
  matches(file: string): boolean;
}

export interface Rule {
  /** A file of this layer… */
  from: string;
  /** …may import files of these layers only. */
  mayImport: string[];
}

export interface Violation {
  file: string;
  imports: string;
  from: string;
  to: string;
}

const under = (prefix: string) => (file: string) => file.startsWith(prefix);

export const LAYERS: Layer[] = [
  { name: 'cli', matches: under('src/cli/') },
  { name: 'worker', matches: under('src/worker/') },
  { name: 'batch', matches: under('src/batch/') },
  { name: 'core', matches: under('src/') },
  { name: 'adapter-door', matches: (f) => f === 'adapters/index.ts' },
  { name: 'adapter', matches: under('adapters/') },
  { name: 'vddk', matches: under('vddk/') },
  { name: 'native', matches: under('native/') },
];

export const RULES: Rule[] = [
  // The composition root wires everything, but sees adapters only through their door.
  { from: 'cli', mayImport: ['cli', 'worker', 'batch', 'core', 'adapter-door', 'native'] },
  // The front ends are reporters around the one pipeline: core only, never each other.
  { from: 'worker', mayImport: ['worker', 'core'] },
  { from: 'batch', mayImport: ['batch', 'core'] },
  { from: 'core', mayImport: ['core'] },
  { from: 'adapter-door', mayImport: ['adapter', 'core'] },
  { from: 'adapter', mayImport: ['adapter', 'core', 'vddk'] },
  { from: 'vddk', mayImport: ['vddk', 'native', 'core'] },
  { from: 'native', mayImport: ['native', 'core'] },
];

export function layerOf(file: string, layers: Layer[] = LAYERS): string | undefined {
  return layers.find((l) => l.matches(file))?.name;
}

/** Imports that break a rule; a file of one adapter importing another adapter's files counts too. */
export function violations(graph: ImportGraph, layers: Layer[] = LAYERS, rules: Rule[] = RULES): Violation[] {
  const out: Violation[] = [];
  for (const [file, imports] of graph) {
    const from = layerOf(file, layers);
    const rule = rules.find((r) => r.from === from);
    for (const target of imports) {
      const to = layerOf(target, layers);
      const allowed = from !== undefined && to !== undefined && rule !== undefined && rule.mayImport.includes(to);
      const crossAdapter = from === 'adapter' && to === 'adapter' && file.split('/')[1] !== target.split('/')[1];
      if (!allowed || crossAdapter) out.push({ file, imports: target, from: from ?? '?', to: to ?? '?' });
    }
  }
  return out;
}

/** Every import cycle (strongly connected component of more than one file, or a file importing itself). */
export function cycles(graph: ImportGraph): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

function listTs(root: string, dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) out.push(...listTs(root, path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/**
 * The real graph: every `import`/`export … from` and dynamic `import()` of the
 * product folders, as TypeScript's own pre-processor reads them (type-only
 * imports included: a type cycle is still a cycle of ideas).
 */
export function productImportGraph(repo: string, folders = ['src', 'adapters', 'vddk', 'native']): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const file of folders.flatMap((f) => listTs(repo, f))) {
    const info = ts.preProcessFile(readFileSync(join(repo, file), 'utf8'), true, true);
    const targets = info.importedFiles
      .map((i) => i.fileName)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => relative(repo, resolve(repo, dirname(file), spec.replace(/\.js$/, '.ts'))))
      .filter((target) => existsSync(join(repo, target)));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}
