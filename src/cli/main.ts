import { setMaxListeners } from 'node:events';
import { Command, CommanderError, Option } from 'commander';
import { InterruptedError, UsageError, V2vError, describe } from '../errors.js';
import { createLogger } from '../log.js';
import { ExitCode } from '../model.js';
import { runtimeFromEnv, type Runtime } from '../runtime.js';
import type { CliContext } from './context.js';

const VERSION = '0.1.0';
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'];

/**
 * The commands, loaded only once runProcess listens for signals: they bring in the adapters, koffi and the
 * rest, most of a cold start, and a SIGTERM in that time would otherwise end the process as 143.
 */
async function loadCommands(): Promise<((program: Command, ctx: CliContext) => void)[]> {
  const [inventory, check, plan, importing, convert, pod, batch] = await Promise.all([
    import('./commands/inventory.js'),
    import('./commands/check.js'),
    import('./commands/plan.js'),
    import('./commands/import.js'),
    import('./commands/convert.js'),
    import('./commands/pod.js'),
    import('./commands/batch.js'),
  ]);
  return [inventory.registerInventory, check.registerCheck, plan.registerPlan, importing.registerImport, convert.registerConvert, pod.registerPod, batch.registerBatch];
}

/**
 * Commander's own complaints (unknown option or command, a missing argument, a bad choice) as our
 * usage error: `error USAGE: …` and a hint naming the help to read, instead of commander's text.
 */
function usageErrorOf(e: CommanderError, program: Command, argv: string[]): UsageError {
  const [first = '', ...more] = (e.code === 'commander.help' ? 'no command given' : e.message).replace(/^error: /, '').split('\n');
  const command = program.commands.find((c) => argv.slice(2).includes(c.name()));
  const help = command ? `v2v ${command.name()} --help lists its options` : 'v2v --help lists the commands';
  const suggestion = more
    .join(' ')
    .trim()
    .replace(/^\((.*)\)$/, '$1');
  return new UsageError('USAGE', first, { hint: suggestion ? `${suggestion} ${help}` : help });
}

function printError(ctx: CliContext, e: V2vError): void {
  ctx.stderr.write(`error ${e.code}: ${e.message}\n`);
  if (e.hint) ctx.stderr.write(`  hint: ${e.hint}\n`);
}

export interface MainIo {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  runtime?: Runtime;
  /** Stops long work; state is kept and the command exits 4. */
  signal?: AbortSignal;
}

/** Runs one command line; touches no process-wide state, so tests may call it in-process. */
export async function main(argv: string[], io: MainIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const runtime = io.runtime ?? runtimeFromEnv({});
  const signal = io.signal ?? new AbortController().signal;
  if (!LOG_LEVELS.includes(runtime.logLevel)) {
    stderr.write(`error USAGE: V2V_LOG_LEVEL ${JSON.stringify(runtime.logLevel)} is not a log level\n  hint: one of ${LOG_LEVELS.join(', ')}\n`);
    return ExitCode.usage;
  }
  // One signal for the whole run, shared by every request and read in flight (two sources listing at once
  // already hold more than the default 10 listeners): not a leak.
  setMaxListeners(1000, signal);
  // On a terminal the log is lines for a person, and an error is printed once, as `error CODE`;
  // otherwise the log is JSON for machines, and carries the error as an event too.
  const jsonLog = !(stderr as NodeJS.WriteStream).isTTY;
  const log = createLogger({ destination: stderr, level: runtime.logLevel, json: jsonLog });
  const ctx: CliContext = { stdout, stderr, log, runtime, signal, exitCode: ExitCode.ok };
  const stopping = (): void => ctx.log.warn({ reason: describe(signal.reason) }, 'stopping: what is copied is kept; run the same command again to resume');
  signal.addEventListener('abort', stopping, { once: true });

  const program = new Command('v2v')
    .description('Move VMware vSphere and RHV/oVirt VMs, and disk images, into KubeVirt')
    .version(VERSION)
    .addOption(new Option('--log-level <level>', 'env V2V_LOG_LEVEL').choices(LOG_LEVELS).default(runtime.logLevel))
    .exitOverride()
    // Commander's errors are printed in our shape, below.
    .configureOutput({ writeOut: (s) => stdout.write(s), writeErr: (s) => stderr.write(s), outputError: () => undefined })
    .hook('preAction', (cmd) => {
      ctx.log.level = String(cmd.opts()['logLevel'] ?? runtime.logLevel);
    });

  try {
    for (const register of await loadCommands()) register(program, ctx);
    await program.parseAsync(argv);
    return ctx.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      if (e.exitCode === 0) return ExitCode.ok;
      printError(ctx, usageErrorOf(e, program, argv));
      return ExitCode.usage;
    }
    // Whatever a stopped run threw on its way out (an aborted request, a killed child), it was stopped.
    const error = signal.aborted && !(e instanceof InterruptedError) ? new InterruptedError(describe(signal.reason), { cause: e }) : e;
    if (error instanceof V2vError) {
      if (jsonLog) ctx.log.error({ code: error.code, err: error.toJSON() }, error.message);
      printError(ctx, error);
      return error.exitCode;
    }
    if (jsonLog) ctx.log.error({ err: describe(error) }, 'unexpected failure');
    stderr.write(`error INTERNAL: ${describe(error)}\n`);
    return ExitCode.failure;
  } finally {
    signal.removeEventListener('abort', stopping);
  }
}

/**
 * The process entry (`bin/v2v.js`): the one place that reads the environment
 * and listens for signals. SIGTERM or SIGINT stops the run through its
 * AbortSignal; a second one ends the process at once.
 */
export async function runProcess(argv: string[]): Promise<number> {
  // libvirt logs driver warnings to stderr (the esx driver many per call); its errors reach us through
  // its error handler. A user who wants libvirt's log sets LIBVIRT_LOG_OUTPUTS themselves.
  process.env['LIBVIRT_LOG_OUTPUTS'] ??= '4:file:/dev/null';
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(ExitCode.interrupted);
    controller.abort(new InterruptedError(`stopped by ${name}`));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    return await main(argv, { runtime: runtimeFromEnv({ ...process.env }), signal: controller.signal });
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
