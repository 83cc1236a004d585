import { ExitCode } from './model.js';
import { redact } from './redact.js';

export interface ErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Structured facts for JSON output (never secrets). */
  details?: Record<string, unknown>;
}

/**
 * The root of every error v2v reports on purpose. `code` is stable (users grep
 * for it, tests assert it); `hint` tells the user what to do; the exit code
 * follows from the boundary the error belongs to. Message and hint are
 * redacted of registered secrets when the error is made.
 */
export class V2vError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  readonly exitCode: ExitCode = ExitCode.failure;

  constructor(code: string, message: string, options: ErrorOptions = {}) {
    super(redact(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint === undefined ? undefined : redact(options.hint);
    this.details = options.details;
  }

  toJSON(): Record<string, unknown> {
    return {
      error: this.name,
      code: this.code,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

/** A command line the user must fix. */
export class UsageError extends V2vError {
  override readonly exitCode = ExitCode.usage;
}

/** An input file (sources file, mapping, objects) the user must fix. */
export class ConfigError extends V2vError {
  override readonly exitCode = ExitCode.usage;
}

/** The source platform (vCenter, ESXi, oVirt engine) failed or refused. */
export class SourceError extends V2vError {}

/** The run was stopped (SIGTERM, SIGINT) and can be resumed. */
export class InterruptedError extends V2vError {
  override readonly exitCode = ExitCode.interrupted;
  constructor(message = 'interrupted', options: ErrorOptions = {}) {
    super('INTERRUPTED', message, { hint: 'run the same command again to resume', ...options });
  }
}

export function isV2vError(e: unknown): e is V2vError {
  return e instanceof V2vError;
}

/** The message of an unknown thrown value, redacted. */
export function describe(e: unknown): string {
  if (e instanceof Error) {
    const cause = e.cause instanceof Error ? `: ${e.cause.message}` : '';
    return redact(e.message + cause);
  }
  return redact(String(e));
}
