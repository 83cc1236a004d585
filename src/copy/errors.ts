import { V2vError, type ErrorOptions } from '../errors.js';

/**
 * Stable codes of the disk data plane. Users grep for them, tests assert them.
 * Source-side failures (TLS, auth, unreachable) keep the foundation's codes.
 */
export type CopyErrorCode =
  | 'TARGET_TOO_SMALL'
  | 'TARGET_INVALID'
  | 'TARGET_WRITE_FAILED'
  | 'IMAGE_TOO_LARGE'
  | 'IMAGE_CORRUPT'
  | 'IMAGE_TRUNCATED'
  | 'IMAGE_UNSUPPORTED'
  | 'IMAGE_UNSAFE_PATH'
  | 'IMAGE_NOT_FOUND'
  | 'IMAGE_NOT_A_DISK'
  | 'COPY_STALLED'
  | 'COPY_FAILED'
  | 'CHECKSUM_MISMATCH'
  | 'SOURCE_UNREACHABLE'
  | 'SOURCE_TLS_UNTRUSTED'
  | 'SOURCE_AUTH_FAILED'
  | 'SOURCE_NOT_FOUND'
  | 'SOURCE_FAILED';

/** A failure of the copy engine, a target, or an image's content. Exit code 1. */
export class CopyError extends V2vError {
  declare readonly code: CopyErrorCode;
  constructor(code: CopyErrorCode, message: string, options: ErrorOptions = {}) {
    super(code, message, options);
  }
}

/** 1.5 GiB, 512 MiB, 12 KiB: sizes in messages are for humans, bytes go in details. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[i]}`;
}

/** Parses `10Gi`, `512Mi`, `1G`, `4096` (Kubernetes quantities, binary and decimal). */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti|Pi|K|k|M|G|T|P|)\s*$/.exec(text);
  if (!m) throw new RangeError(`not a size: "${text}" (use e.g. 10Gi, 512Mi, 4096)`);
  const factor: Record<string, number> = {
    '': 1,
    k: 1e3,
    K: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    P: 1e15,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    Pi: 2 ** 50,
  };
  return Math.round(Number(m[1]) * factor[m[2]!]!);
}
