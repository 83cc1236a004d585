import { describe, expect, it } from 'vitest';
import { cycles, layerOf, productImportGraph, violations, type ImportGraph } from '../helpers/layering.js';
import { REPO } from '../helpers/peers.js';

const graph = (edges: Record<string, string[]>): ImportGraph => new Map(Object.entries(edges));

describe('the layering rules (ARCHITECTURE.md)', () => {
  it.each([
    ['src/pipeline/convert-vm.ts', 'core'],
    ['src/cli/commands/convert.ts', 'cli'],
    ['src/worker/pod.ts', 'worker'],
    ['src/batch/runner.ts', 'batch'],
    ['adapters/index.ts', 'adapter-door'],
    ['adapters/ovirt/imageio.ts', 'adapter'],
    ['vddk/source.ts', 'vddk'],
    ['native/libvirt.ts', 'native'],
  ])('%s is %s', (file, layer) => {
    expect(layerOf(file)).toBe(layer);
  });

  it.each<[string, string, string]>([
    ['a core module importing an adapter', 'src/pipeline/convert-vm.ts', 'adapters/ovirt/imageio.ts'],
    ['a core module importing the adapters door', 'src/pipeline/convert-vm.ts', 'adapters/index.ts'],
    ['a core module importing the worker', 'src/pipeline/convert-vm.ts', 'src/worker/pod.ts'],
    ['a core module importing the batch front end', 'src/pipeline/convert-vm.ts', 'src/batch/state.ts'],
    ['a core module importing the CLI', 'src/checks/report.ts', 'src/cli/output.ts'],
    ['a core module importing VDDK', 'src/copy/engine.ts', 'vddk/source.ts'],
    ['the batch front end importing the pod', 'src/batch/jobs.ts', 'src/worker/server.ts'],
    ['the worker importing an adapter', 'src/worker/pod.ts', 'adapters/vsphere/index.ts'],
    ['the CLI reaching past the adapters door', 'src/cli/commands/import.ts', 'adapters/http/index.ts'],
    ['one adapter importing another', 'adapters/registry/index.ts', 'adapters/ovirt/client.ts'],
    ['an adapter importing the CLI', 'adapters/ovirt/index.ts', 'src/cli/context.ts'],
  ])('refuses %s', (_what, from, to) => {
    expect(violations(graph({ [from]: [to] }))).toEqual([expect.objectContaining({ file: from, imports: to })]);
  });

  it.each<[string, string, string]>([
    ['core within core', 'src/pipeline/convert-vm.ts', 'src/copy/engine.ts'],
    ['the CLI wiring the adapters door', 'src/cli/pipeline-deps.ts', 'adapters/index.ts'],
    ['the CLI wiring libvirt', 'src/cli/pipeline-deps.ts', 'native/libvirt.ts'],
    ['an adapter using core types', 'adapters/ovirt/index.ts', 'src/source.ts'],
    ['an adapter reading through VDDK', 'adapters/vsphere/index.ts', 'vddk/source.ts'],
    ['an adapter within its own folder', 'adapters/ovirt/index.ts', 'adapters/ovirt/imageio.ts'],
    ['the worker using the pipeline', 'src/worker/pod.ts', 'src/pipeline/convert-vm.ts'],
  ])('allows %s', (_what, from, to) => {
    expect(violations(graph({ [from]: [to] }))).toEqual([]);
  });

  it('finds cycles, short and long, and nothing in a tree', () => {
    expect(cycles(graph({ a: ['b'], b: ['a'] }))).toEqual([['a', 'b']]);
    expect(cycles(graph({ a: ['b'], b: ['c'], c: ['a'], d: ['a'] }))).toEqual([['a', 'b', 'c']]);
    expect(cycles(graph({ a: ['a'] }))).toEqual([['a']]);
    expect(cycles(graph({ a: ['b', 'c'], b: ['c'], c: [] }))).toEqual([]);
  });
});

describe("the product's own imports", () => {
  const real = productImportGraph(REPO);

  it('are read from every product file', () => {
    expect(real.size).toBeGreaterThan(100);
    expect(real.get('src/pipeline/convert-vm.ts')).toContain('src/copy/engine.ts');
  });

  it('follow the layering', () => {
    expect(violations(real)).toEqual([]);
  });

  it('have no cycle', () => {
    expect(cycles(real)).toEqual([]);
  });
});
