// qemu-img for format work (qcow2, vmdk): we never parse those formats ourselves.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { ChildProcesses } from './children.js';
import { CopyError } from './errors.js';
import type { ExternalReference } from './image-references.js';
import type { ImageFormat } from './source.js';

/**
 * How qemu-img opens an image: the format named (never probed), the `file`
 * driver on this exact path (no protocol or `json:` is ever parsed from it),
 * and no backing chain, whatever the image says. `extra` adds options.
 */
export function imageOpenSpec(path: string, format: ImageFormat, extra: Record<string, unknown> = {}): string {
  return `json:${JSON.stringify({ driver: format, file: { driver: 'file', filename: resolve(path) }, backing: null, ...extra })}`;
}

/** qemu's messages name the image by its open spec; users know it by its path. */
const named = (message: string, spec: string, path: string) => message.split(`'${spec}'`).join(path).split(spec).join(path);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `children` owns the qemu-img process: it is killed when the work is stopped or ends. */
function run(args: string[], children: ChildProcesses, options: { onStdout?: (text: string) => void } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = children.adopt(spawn('qemu-img', args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      const text = d.toString();
      if (options.onStdout) options.onStdout(text);
      else stdout += text;
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => reject(new CopyError('COPY_FAILED', `cannot run qemu-img: ${e.message}`, { hint: 'install qemu-utils', cause: e })));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface ImageInfo {
  format: string;
  virtualSize: number;
  /** What qemu itself says the image refers to outside its own file; empty for a self-contained image. */
  references: ExternalReference[];
}

interface QemuInfo {
  format: string;
  'virtual-size': number;
  'backing-filename'?: string;
  'format-specific'?: { type: string; data?: { 'data-file'?: string; 'create-type'?: string; extents?: { filename?: string }[] } };
}

/** The self-contained VMDK kinds: one sparse file that is its own only extent. */
const SELF_CONTAINED_VMDK = new Set(['monolithicSparse', 'streamOptimized']);

function referencesOf(info: QemuInfo, path: string): ExternalReference[] {
  const refs: ExternalReference[] = [];
  if (info['backing-filename']) refs.push({ kind: 'backing file', name: info['backing-filename'] });
  const data = info['format-specific']?.data;
  if (data?.['data-file']) refs.push({ kind: 'external data file', name: data['data-file'] });
  if (info.format === 'vmdk') {
    // Fail closed: anything but one extent that is the image itself is refused.
    const extents = data?.extents ?? [];
    for (const e of extents) if (e.filename !== resolve(path)) refs.push({ kind: 'extent', name: e.filename ?? '' });
    if (extents.length !== 1 || !SELF_CONTAINED_VMDK.has(data?.['create-type'] ?? ''))
      refs.push({ kind: `${data?.['create-type'] ?? 'unknown'} layout (${extents.length} extents)`, name: '' });
  }
  return refs;
}

/**
 * `qemu-img info` of an image opened with `imageOpenSpec`; an image qemu
 * cannot open is IMAGE_CORRUPT. `references` is qemu's own view of what the
 * image names outside itself, for the caller to refuse.
 */
export async function imageInfo(path: string, format: ImageFormat, what: string, children: ChildProcesses): Promise<ImageInfo> {
  if (format === 'qcow2') {
    // qemu 7.2 cannot be told never to open a qcow2's data file, but it accepts
    // an explicit one only from an image that has one: offered a null device,
    // an image that opens has an external data file, and its own was never opened.
    const probe = await run(['check', imageOpenSpec(path, format, { 'data-file': { driver: 'null-co' } })], children);
    if (probe.code !== 1) return { format, virtualSize: 0, references: [{ kind: 'external data file', name: '' }] };
  }
  const spec = imageOpenSpec(path, format);
  const r = await run(['info', '--output=json', spec], children);
  if (r.code !== 0) {
    const message = named(r.stderr.trim(), spec, path);
    throw new CopyError('IMAGE_CORRUPT', `${what}: qemu-img cannot read the ${format} image: ${message}`, {
      hint: 'the image is damaged or not what it claims to be',
      details: { qemuImg: message },
    });
  }
  const info = JSON.parse(r.stdout) as QemuInfo;
  return { format: info.format, virtualSize: info['virtual-size'], references: referencesOf(info, path) };
}

/** `qemu-img check` (qcow2): exit 2 means corruption, 3 only leaked clusters (harmless). */
export async function checkImage(path: string, format: ImageFormat, what: string, children: ChildProcesses): Promise<void> {
  if (format !== 'qcow2') return;
  const spec = imageOpenSpec(path, format);
  const r = await run(['check', spec], children);
  if (r.code === 0 || r.code === 3) return;
  throw new CopyError(
    'IMAGE_CORRUPT',
    `${what}: the qcow2 image is corrupt: ${named((r.stderr || r.stdout).trim(), spec, path)
      .split('\n')
      .slice(0, 3)
      .join('; ')}`,
    {
      hint: 'the image is damaged: repair it at the origin (qemu-img check -r all) or export it again',
      details: { qemuImgExit: r.code },
    },
  );
}

/** Converts into an existing, sized raw target (`-n`), reporting progress as a fraction. */
export async function convertToRaw(options: {
  source: string;
  format: ImageFormat;
  target: string;
  targetIsZero: boolean;
  children: ChildProcesses;
  signal?: AbortSignal;
  onFraction?: (fraction: number) => void;
}): Promise<void> {
  const spec = imageOpenSpec(options.source, options.format);
  const args = ['convert', '-p', '-n', spec, '-O', 'raw', '-W', '-m', '8'];
  if (options.targetIsZero) args.push('--target-is-zero');
  args.push(options.target);
  const r = await run(args, options.children, {
    onStdout: (text) => {
      const all = [...text.matchAll(/\((\d+(?:\.\d+)?)\/100%\)/g)];
      const last = all[all.length - 1];
      if (last && options.onFraction) options.onFraction(Number(last[1]) / 100);
    },
  });
  if (options.signal?.aborted) throw options.signal.reason;
  if (r.code !== 0) {
    const message = named(r.stderr.trim(), spec, options.source);
    const corrupt = /corrupt|invalid|could not read|Input\/output error/i.test(message);
    throw new CopyError(corrupt ? 'IMAGE_CORRUPT' : 'COPY_FAILED', `qemu-img convert failed: ${message}`, {
      hint: corrupt ? 'the image is damaged: export it again' : 'see the qemu-img message',
      details: { qemuImg: message },
    });
  }
}

/** `qemu-img compare` of an image against a raw target; a larger target's tail must read as zeros. */
export async function compareImages(image: string, format: ImageFormat, raw: string, children: ChildProcesses): Promise<{ identical: boolean; message: string }> {
  const spec = imageOpenSpec(image, format);
  const r = await run(['compare', spec, '-F', 'raw', raw], children);
  if (r.code === 0) return { identical: true, message: r.stdout.trim() };
  if (r.code === 1) return { identical: false, message: r.stdout.trim() };
  const message = named(r.stderr.trim(), spec, image);
  throw new CopyError('COPY_FAILED', `qemu-img compare failed: ${message}`, { details: { qemuImg: message } });
}
