// Committing an overlay writes its clusters into the base disk. When a step
// after that fails, the base must go back to how the copy left it, so the
// bytes a commit will overwrite are saved first and written back on failure.
// An overlay holds only what changed in the guest (tens of MiB for virt-v2v's
// work, a few KiB for the NIC edits), so saving them is cheap.
import { open } from 'node:fs/promises';
import { runTool } from './run-tool.js';
import { overlayMapArgv } from './argv.js';

export interface ByteRange {
  offset: number;
  length: number;
}

interface MapEntry {
  start: number;
  length: number;
  depth: number;
}

/** The ranges an overlay holds itself (`qemu-img map` depth 0): exactly what committing it writes. */
export function ownRanges(map: MapEntry[]): ByteRange[] {
  const ranges: ByteRange[] = [];
  for (const entry of map) {
    if (entry.depth !== 0) continue;
    const last = ranges.at(-1);
    if (last && last.offset + last.length === entry.start) last.length += entry.length;
    else ranges.push({ offset: entry.start, length: entry.length });
  }
  return ranges;
}

/** `qemu-img map` of the overlay; `-U` so that an appliance holding it open does not stop the read. */
export async function overlayRanges(overlay: string, env: NodeJS.ProcessEnv): Promise<ByteRange[]> {
  const result = await runTool('qemu-img', overlayMapArgv(overlay), { env });
  if (result.code !== 0) throw new Error(`qemu-img map ${overlay} failed: ${result.output.trim()}`);
  return ownRanges(JSON.parse(result.stdout) as MapEntry[]);
}

const CHUNK = 4 << 20;
const ZEROS = Buffer.alloc(CHUNK);

/**
 * `skipZeros`: all-zero chunks are not written, the target being a fresh
 * sparse file of the right size. virt-v2v's trim leaves zero clusters over
 * the guest's free space, hundreds of MiB that the copy left as holes.
 */
async function copyRanges(from: string, fromOffsets: number[], to: string, toOffsets: number[], lengths: number[], skipZeros = false): Promise<void> {
  const source = await open(from, 'r');
  const target = await open(to, 'r+');
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    for (const [i, length] of lengths.entries()) {
      for (let done = 0; done < length;) {
        const want = Math.min(CHUNK, length - done);
        const { bytesRead } = await source.read(buffer, 0, want, fromOffsets[i]! + done);
        if (bytesRead !== want) throw new Error(`short read of ${from} at ${fromOffsets[i]! + done}`);
        if (!(skipZeros && buffer.subarray(0, want).equals(ZEROS.subarray(0, want)))) await target.write(buffer, 0, want, toOffsets[i]! + done);
        done += want;
      }
    }
    await target.datasync();
  } finally {
    await source.close();
    await target.close();
  }
}

/** The saved bytes of one base disk, in order of offset, packed one after another in `file` (deleted with the work directory). */
export class CommitUndo {
  private constructor(
    readonly base: string,
    readonly ranges: ByteRange[],
    private readonly file: string,
  ) {}

  static async save(base: string, ranges: ByteRange[], file: string): Promise<CommitUndo> {
    const undo = new CommitUndo(base, ranges, file);
    const created = await open(file, 'w');
    await created.truncate(undo.bytes);
    await created.close();
    await copyRanges(
      base,
      ranges.map((r) => r.offset),
      file,
      packedOffsets(ranges),
      ranges.map((r) => r.length),
      true,
    );
    return undo;
  }

  get bytes(): number {
    return this.ranges.reduce((n, r) => n + r.length, 0);
  }

  /** Writes the saved bytes back over whatever the commit left there. */
  async restore(): Promise<void> {
    await copyRanges(
      this.file,
      packedOffsets(this.ranges),
      this.base,
      this.ranges.map((r) => r.offset),
      this.ranges.map((r) => r.length),
    );
  }
}

function packedOffsets(ranges: ByteRange[]): number[] {
  let at = 0;
  return ranges.map((r) => {
    const offset = at;
    at += r.length;
    return offset;
  });
}
