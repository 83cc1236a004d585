import type { Logger } from '../log.js';
import type { Runtime } from '../runtime.js';

/** What commands get from the entry point: output streams, a logger, the runtime, the stop signal, and the exit code to set. */
export interface CliContext {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  log: Logger;
  runtime: Runtime;
  /** Fires with an InterruptedError when the process is asked to stop (SIGTERM, SIGINT). */
  signal: AbortSignal;
  exitCode: number;
}
