import { readFile } from 'node:fs/promises';
import { LineCounter, isMap, isNode, isPair, isScalar, parseAllDocuments, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';

type Path = readonly PropertyKey[];

export interface Located {
  file: string;
  line: number;
  column: number;
}

/** `sources[0].url` */
export function formatPath(path: Path): string {
  let out = '';
  for (const part of path) {
    out += typeof part === 'number' ? `[${part}]` : out ? `.${String(part)}` : String(part);
  }
  return out || '(document)';
}

function locate(doc: Document, lines: LineCounter, path: Path, key?: string): { line: number; column: number } {
  let node: unknown = doc.contents;
  let offset = 0;
  const at = (n: unknown) => {
    if (isNode(n) && n.range) offset = n.range[0];
  };
  at(node);
  for (const part of path) {
    if (!isNode(node) || !('get' in node)) break;
    const next = (node as { get(k: unknown, keepScalar: boolean): unknown }).get(part, true);
    if (next === undefined) break;
    node = next;
    at(node);
  }
  if (key !== undefined && isMap(node)) {
    const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
    if (pair && isScalar(pair.key) && pair.key.range) offset = pair.key.range[0];
  }
  const pos = lines.linePos(offset);
  return { line: pos.line, column: pos.col };
}

function zodMessage(issue: z.core.$ZodIssue): { message: string; key?: string } {
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0];
    return { message: `unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}`, ...(key ? { key } : {}) };
  }
  return { message: issue.message };
}

/**
 * A check that finds two entries in conflict names the other one with `params: { alsoAt: path }`, a
 * path relative to the object the check ran on, as deep as the issue's own path was there. The issue's
 * path has gained the object's place in the document since; `alsoAt` gets the same prefix.
 */
function alsoAtPath(issue: z.core.$ZodIssue, path: Path): Path | undefined {
  const alsoAt: unknown = issue.code === 'custom' ? issue.params?.['alsoAt'] : undefined;
  if (!Array.isArray(alsoAt)) return undefined;
  return [...path.slice(0, path.length - alsoAt.length), ...(alsoAt as PropertyKey[])];
}

function firstIssueError(file: string, doc: Document, lines: LineCounter, issues: z.core.$ZodIssue[], what: string, base: Path = []): ConfigError {
  const issue = issues[0]!;
  const path = [...base, ...issue.path];
  const { message, key } = zodMessage(issue);
  const { line, column } = locate(doc, lines, path, key);
  const field = key !== undefined ? formatPath([...path, key]) : formatPath(path);
  const other = alsoAtPath(issue, path);
  const also = other ? { field: formatPath(other), line: locate(doc, lines, other).line } : undefined;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  return new ConfigError('CONFIG_INVALID', `${file}:${line}:${column}: ${field}: ${message}${also ? ` (${also.field} at ${file}:${also.line})` : ''}${more}`, {
    hint: `fix ${what} at ${file}:${line}`,
    details: {
      file,
      line,
      column,
      field,
      ...(also ? { alsoAt: also } : {}),
      issues: issues.map((i) => ({ path: formatPath([...base, ...i.path]), message: zodMessage(i).message })),
    },
  });
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    throw new ConfigError('CONFIG_NOT_FOUND', `cannot read ${what} ${file}: ${(cause as Error).message}`, {
      hint: 'check the path',
      cause,
    });
  }
}

function parseErrors(file: string, doc: Document, lines: LineCounter, what: string): void {
  const err = doc.errors[0];
  if (!err) return;
  const pos = lines.linePos(err.pos[0]);
  throw new ConfigError('CONFIG_INVALID', `${file}:${pos.line}:${pos.col}: invalid YAML: ${err.message.split('\n')[0]}`, {
    hint: `fix the YAML syntax of ${what}`,
    details: { file, line: pos.line, column: pos.col },
  });
}

/**
 * The document's value. The yaml library refuses aliases that would expand
 * into a resource-exhaustion bomb (and a few other shapes) only here, with
 * a plain exception: that is the user's file, not our bug.
 */
function documentValue(file: string, doc: Document, what: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: 1000 });
  } catch (cause) {
    throw new ConfigError('CONFIG_INVALID', `${file}: invalid YAML: ${(cause as Error).message}`, {
      hint: `${what} must be plain YAML: expand its aliases (&anchor / *alias) or remove the ones that nest`,
      cause,
      details: { file },
    });
  }
}

/** Parses one YAML document and validates it; every error names file:line:column and the field. */
export async function loadYamlFile<S extends z.ZodType>(file: string, schema: S, what: string): Promise<z.output<S>> {
  return parseYamlText(await readText(file, what), file, schema, what);
}

export function parseYamlText<S extends z.ZodType>(text: string, file: string, schema: S, what: string): z.output<S> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  parseErrors(file, doc, lines, what);
  const result = schema.safeParse(documentValue(file, doc, what));
  if (!result.success) throw firstIssueError(file, doc, lines, result.error.issues, what);
  return result.data;
}

/** A multi-document YAML file, each document handed back with a locator for later errors. */
export async function loadYamlDocuments(file: string, what: string): Promise<{ value: unknown; fail: (issues: z.core.$ZodIssue[]) => ConfigError }[]> {
  const text = await readText(file, what);
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  if (!Array.isArray(docs)) return [];
  return docs.map((doc) => {
    parseErrors(file, doc, lines, what);
    return { value: documentValue(file, doc, what), fail: (issues) => firstIssueError(file, doc, lines, issues, what) };
  });
}
