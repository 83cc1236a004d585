import type { Logger } from '../log.js';

/** What commands get from the entry point: output streams, a logger, and the exit code to set. */
export interface CliContext {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  log: Logger;
  exitCode: number;
}
