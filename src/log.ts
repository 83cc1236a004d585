import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { redact } from './redact.js';

export type { Logger } from 'pino';

const REDACT_PATHS = [
  'password',
  '*.password',
  'secretKey',
  '*.secretKey',
  'accessKeyId',
  '*.accessKeyId',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.cookie',
  'cookie',
];

/** A line-per-event human rendering of pino's JSON for terminals. */
function humanStream(out: NodeJS.WritableStream): Writable {
  const names: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      const { level, time, msg, pid: _pid, hostname: _host, ...rest } = JSON.parse(chunk.toString()) as Record<string, unknown>;
      const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
      out.write(`${new Date(Number(time)).toISOString().slice(11, 19)} ${names[Number(level)] ?? level} ${String(msg ?? '')}${extra}\n`);
      done();
    },
  });
}

/**
 * JSON events on stderr when it is not a terminal (the pod, CI); short human
 * lines on a terminal. Secret fields and registered secret values are redacted.
 */
export function createLogger(options: { level?: string; json?: boolean; destination?: NodeJS.WritableStream } = {}): Logger {
  const out = options.destination ?? process.stderr;
  const json = options.json ?? !(out as NodeJS.WriteStream).isTTY;
  return pino(
    {
      level: options.level ?? 'info',
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? redact(a) : a)) as Parameters<typeof method>);
        },
      },
    },
    json ? (out as Writable) : humanStream(out),
  );
}
