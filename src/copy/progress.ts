// The per-disk progress event, shared by `v2v import`, the conversion pod
// (Prometheus gauges) and the batch runner.
import { formatBytes } from './errors.js';

export type CopyPhase = 'checking' | 'copying' | 'downloading' | 'converting' | 'verifying' | 'flushing' | 'done';

export interface CopyProgress {
  /** Which disk (the source's description, or a caller-chosen label). */
  disk: string;
  phase: CopyPhase;
  /** Bytes of the virtual disk handled (data written plus zero ranges skipped). */
  bytesDone: number;
  /** Virtual disk size when known. */
  bytesTotal?: number;
  /** Bytes actually written to the target (data, not holes). */
  bytesWritten: number;
  /** Bytes per second over the last few seconds. */
  rate: number;
  /** Seconds left at the current rate, when the total is known. */
  etaSeconds?: number;
}

/** Tracks rate and ETA over a sliding window; `snapshot()` makes an event. */
export class ProgressMeter {
  private samples: { t: number; done: number }[] = [];
  bytesDone = 0;
  bytesWritten = 0;
  phase: CopyPhase = 'checking';

  constructor(
    private readonly disk: string,
    public bytesTotal: number | undefined,
    private readonly now: () => number = () => performance.now(),
    private readonly windowMs = 5000,
  ) {}

  snapshot(): CopyProgress {
    const t = this.now();
    this.samples.push({ t, done: this.bytesDone });
    while (this.samples.length > 2 && t - this.samples[0]!.t > this.windowMs) this.samples.shift();
    const first = this.samples[0]!;
    const dt = (t - first.t) / 1000;
    const rate = dt > 0 ? (this.bytesDone - first.done) / dt : 0;
    const total = this.bytesTotal;
    return {
      disk: this.disk,
      phase: this.phase,
      bytesDone: this.bytesDone,
      ...(total !== undefined ? { bytesTotal: total } : {}),
      bytesWritten: this.bytesWritten,
      rate: Math.round(rate),
      ...(total !== undefined && rate > 0 ? { etaSeconds: Math.ceil((total - this.bytesDone) / rate) } : {}),
    };
  }
}

/** `disk.img  [#########-----------]  45%  1.8 GiB/4.0 GiB  210 MiB/s  ETA 11s` */
export function renderProgressLine(p: CopyProgress, width = 24): string {
  const frac = p.bytesTotal ? Math.min(1, p.bytesDone / p.bytesTotal) : 0;
  const filled = Math.round(frac * width);
  const bar = p.bytesTotal ? `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(frac * 100)).padStart(3)}%` : `[${p.phase}]`;
  const total = p.bytesTotal !== undefined ? `/${formatBytes(p.bytesTotal)}` : '';
  const eta = p.etaSeconds !== undefined ? `  ETA ${p.etaSeconds}s` : '';
  return `${p.phase.padEnd(11)} ${bar}  ${formatBytes(p.bytesDone)}${total}  ${formatBytes(p.rate)}/s${eta}`;
}
