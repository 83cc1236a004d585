// qemu-img for format work (qcow2, vmdk): we never parse those formats ourselves.
import { spawn } from 'node:child_process';
import type { ChildProcesses } from './children.js';
import { CopyError } from './errors.js';
import type { ImageFormat } from './source.js';

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
  backingFile?: string;
}

/** `qemu-img info`; an image qemu cannot open is IMAGE_CORRUPT. */
export async function imageInfo(path: string, format: ImageFormat, what: string, children: ChildProcesses): Promise<ImageInfo> {
  const r = await run(['info', '--output=json', '-f', format, path], children);
  if (r.code !== 0) {
    throw new CopyError('IMAGE_CORRUPT', `${what}: qemu-img cannot read the ${format} image: ${r.stderr.trim()}`, {
      hint: 'the image is damaged or not what it claims to be',
      details: { qemuImg: r.stderr.trim() },
    });
  }
  const info = JSON.parse(r.stdout) as { format: string; 'virtual-size': number; 'backing-filename'?: string };
  return { format: info.format, virtualSize: info['virtual-size'], ...(info['backing-filename'] ? { backingFile: info['backing-filename'] } : {}) };
}

/** `qemu-img check` (qcow2): exit 2 means corruption, 3 only leaked clusters (harmless). */
export async function checkImage(path: string, format: ImageFormat, what: string, children: ChildProcesses): Promise<void> {
  if (format !== 'qcow2') return;
  const r = await run(['check', '-f', format, path], children);
  if (r.code === 0 || r.code === 3) return;
  throw new CopyError('IMAGE_CORRUPT', `${what}: the qcow2 image is corrupt: ${(r.stderr || r.stdout).trim().split('\n').slice(0, 3).join('; ')}`, {
    hint: 'the image is damaged: repair it at the origin (qemu-img check -r all) or export it again',
    details: { qemuImgExit: r.code },
  });
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
  const args = ['convert', '-p', '-n', '-f', options.format, '-O', 'raw', '-W', '-m', '8'];
  if (options.targetIsZero) args.push('--target-is-zero');
  args.push(options.source, options.target);
  const r = await run(args, options.children, {
    onStdout: (text) => {
      const all = [...text.matchAll(/\((\d+(?:\.\d+)?)\/100%\)/g)];
      const last = all[all.length - 1];
      if (last && options.onFraction) options.onFraction(Number(last[1]) / 100);
    },
  });
  if (options.signal?.aborted) throw options.signal.reason;
  if (r.code !== 0) {
    const message = r.stderr.trim();
    const corrupt = /corrupt|invalid|could not read|Input\/output error/i.test(message);
    throw new CopyError(corrupt ? 'IMAGE_CORRUPT' : 'COPY_FAILED', `qemu-img convert failed: ${message}`, {
      hint: corrupt ? 'the image is damaged: export it again' : 'see the qemu-img message',
      details: { qemuImg: message },
    });
  }
}

/** `qemu-img compare` of an image against a raw target; a larger target's tail must read as zeros. */
export async function compareImages(image: string, format: ImageFormat, raw: string, children: ChildProcesses): Promise<{ identical: boolean; message: string }> {
  const r = await run(['compare', '-f', format, '-F', 'raw', image, raw], children);
  if (r.code === 0) return { identical: true, message: r.stdout.trim() };
  if (r.code === 1) return { identical: false, message: r.stdout.trim() };
  throw new CopyError('COPY_FAILED', `qemu-img compare failed: ${r.stderr.trim()}`, { details: { qemuImg: r.stderr.trim() } });
}
