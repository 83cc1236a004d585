// virt-v2v's human output → typed progress events. virt-v2v prints one
// timestamped line per phase (`[  14.0] Inspecting the source`), `Copying disk
// N/M` before each disk copy (virt-v2v, not in-place), percentages either as a
// progress bar or, with --machine-readable, as `(12.34/100%)`, and
// `<tool>: warning: …` lines.

export type ConversionPhase = 'setup' | 'opening' | 'inspecting' | 'checking-space' | 'converting' | 'mapping' | 'copying' | 'closing' | 'finishing' | 'other';

export type ConversionProgress =
  | { kind: 'phase'; phase: ConversionPhase; elapsedSeconds: number; message: string }
  | { kind: 'disk'; disk: number; of: number; elapsedSeconds: number }
  | { kind: 'percent'; percent: number }
  | { kind: 'warning'; message: string };

const PHASES: [RegExp, ConversionPhase][] = [
  [/^Setting up the source/, 'setup'],
  [/^Opening the source/, 'opening'],
  [/^Inspecting the source/, 'inspecting'],
  [/^Checking for sufficient free disk space/, 'checking-space'],
  [/^Converting /, 'converting'],
  [/^Mapping filesystem data/, 'mapping'],
  [/^Setting up the destination|^Copying disk/, 'copying'],
  [/^Closing the overlay/, 'closing'],
  [/^Finishing off/, 'finishing'],
];

/** One line of virt-v2v output → an event, or undefined for lines that carry none. */
export function parseProgressLine(rawLine: string): ConversionProgress | undefined {
  // Strip ANSI colour codes (--colours, or a tty): matching ESC is the point here.
  // eslint-disable-next-line no-control-regex
  const line = rawLine.replace(/\x1b\[[0-9;]*m/g, '').trim();
  if (!line) return undefined;
  const stamped = /^\[\s*(\d+(?:\.\d+)?)\]\s+(.*)$/.exec(line);
  if (stamped) {
    const elapsedSeconds = Number(stamped[1]);
    const message = stamped[2]!;
    const copying = /^Copying disk (\d+)\/(\d+)/.exec(message);
    if (copying) return { kind: 'disk', disk: Number(copying[1]), of: Number(copying[2]), elapsedSeconds };
    const phase = PHASES.find(([re]) => re.test(message))?.[1] ?? 'other';
    return { kind: 'phase', phase, elapsedSeconds, message };
  }
  const machine = /^\((\d+(?:\.\d+)?)\/100%\)$/.exec(line);
  if (machine) return { kind: 'percent', percent: Number(machine[1]) };
  // The tty progress bar: `█ 45% [*****-----]` (virt-v2v) or `(45.00/100%)` inside it.
  const bar = /^[^\w\s]?\s*(\d{1,3})% \[[^\]]*\]/.exec(line);
  if (bar) return { kind: 'percent', percent: Number(bar[1]) };
  const warning = /^virt-v2v(?:-in-place|-inspector)?: warning: (.*)$/.exec(line);
  if (warning) return { kind: 'warning', message: warning[1]! };
  return undefined;
}

/**
 * Feeds chunks of output (split on `\n` and the `\r` of progress bars) and
 * emits an event per recognised line. `flush()` handles a last line without a
 * newline.
 */
export class ProgressParser {
  private pending = '';
  constructor(private readonly emit: (event: ConversionProgress) => void) {}

  push(chunk: string): void {
    const parts = (this.pending + chunk).split(/\r\n|\r|\n/);
    this.pending = parts.pop() ?? '';
    for (const part of parts) this.line(part);
  }

  flush(): void {
    if (this.pending) this.line(this.pending);
    this.pending = '';
  }

  private line(text: string): void {
    const event = parseProgressLine(text);
    if (event) this.emit(event);
  }
}
