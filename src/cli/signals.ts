import { InterruptedError } from '../errors.js';
import type { CliContext } from './context.js';

/**
 * Runs `work` with an AbortSignal that SIGTERM / SIGINT fire, so long work
 * stops cleanly (state kept, exit 4) instead of dying mid-write.
 */
export async function withStopSignals<T>(ctx: CliContext, what: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals) => {
    ctx.log.warn({ signal }, `stopping: ${what}`);
    controller.abort(new InterruptedError(`stopped by ${signal}`));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
  }
}
