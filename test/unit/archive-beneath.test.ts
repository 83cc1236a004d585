import { describe, expect, it } from 'vitest';
import { resolveBeneath, type TreeNode } from '../../src/copy/archive.js';

/** A tree as a map of link-free paths to what they are; anything absent is missing. */
function tree(nodes: Record<string, TreeNode>): (physical: readonly string[]) => TreeNode {
  return (physical) => nodes[physical.join('/')] ?? { kind: 'missing' };
}

describe('resolveBeneath', () => {
  const dirs = (...names: string[]) => Object.fromEntries(names.map((n) => [n, { kind: 'directory' } as TreeNode]));
  it.each([
    ['a plain path', 'a/b/c', {}, 'a/b/c'],
    ['a link to a directory', 'lib/x', { ...dirs('usr', 'usr/lib'), lib: { kind: 'link', target: 'usr/lib' } }, 'usr/lib/x'],
    ['.. inside', 'a/../b', dirs('a'), 'b'],
    ['.. above the root', '..', {}, 'outside'],
    ['a link to ..', 'a/up', { ...dirs('a'), 'a/up': { kind: 'link', target: '..' } }, ''],
    ['two links, each harmless, leading out', 'a/up/esc', { ...dirs('a'), 'a/up': { kind: 'link', target: '..' }, esc: { kind: 'link', target: '..' } }, 'outside'],
    ['an absolute link', 'a/abs/x', { ...dirs('a'), 'a/abs': { kind: 'link', target: '/etc' } }, 'outside'],
    ['a loop', 'x/y', { x: { kind: 'link', target: 'y' }, y: { kind: 'link', target: 'x' } }, 'loop'],
    ['.. after a missing name is taken as written', 'm/../a', dirs('a'), 'a'],
    ['…and the tree counts again once back', 'm/../up/..', { ...dirs('a'), up: { kind: 'link', target: 'a' } }, ''],
    ['a link met after coming back through a missing name', 'a/m/../up/..', { ...dirs('a'), 'a/up': { kind: 'link', target: '..' } }, 'outside'],
  ])('%s', (_what, path, nodes, expected) => {
    const r = resolveBeneath(path.split('/'), tree(nodes as Record<string, TreeNode>));
    expect(Array.isArray(r) ? r.join('/') : r).toBe(expected);
  });
});
