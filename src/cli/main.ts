import { Command, CommanderError } from 'commander';
import { V2vError, describe } from '../errors.js';
import { createLogger } from '../log.js';
import { ExitCode } from '../model.js';
import type { CliContext } from './context.js';
import { registerInventory } from './commands/inventory.js';
import { registerCheck } from './commands/check.js';
import { registerPlan } from './commands/plan.js';
import { registerImport } from './commands/import.js';
import { registerConvert } from './commands/convert.js';
import { registerPod } from './commands/pod.js';
import { registerBatch } from './commands/batch.js';

const VERSION = '0.1.0';

function printError(ctx: CliContext, e: V2vError): void {
  ctx.stderr.write(`error ${e.code}: ${e.message}\n`);
  if (e.hint) ctx.stderr.write(`  hint: ${e.hint}\n`);
}

export async function main(argv: string[], io: Partial<Pick<CliContext, 'stdout' | 'stderr'>> = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const ctx: CliContext = { stdout, stderr, log: createLogger({ destination: stderr }), exitCode: ExitCode.ok };

  const program = new Command('v2v')
    .description('Move VMware vSphere and RHV/oVirt VMs, and disk images, into KubeVirt')
    .version(VERSION)
    .option('--log-level <level>', 'trace | debug | info | warn | error (env V2V_LOG_LEVEL)', process.env['V2V_LOG_LEVEL'] ?? 'info')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => stdout.write(s), writeErr: (s) => stderr.write(s) })
    .hook('preAction', (cmd) => {
      ctx.log.level = String(cmd.opts()['logLevel'] ?? 'info');
    });
  registerInventory(program, ctx);
  registerCheck(program, ctx);
  registerPlan(program, ctx);
  registerImport(program, ctx);
  registerConvert(program, ctx);
  registerPod(program, ctx);
  registerBatch(program, ctx);

  try {
    await program.parseAsync(argv);
    return ctx.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return e.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (e instanceof V2vError) {
      ctx.log.error({ code: e.code, err: e.toJSON() }, e.message);
      printError(ctx, e);
      return e.exitCode;
    }
    ctx.log.error({ err: describe(e) }, 'unexpected failure');
    stderr.write(`error INTERNAL: ${describe(e)}\n`);
    return ExitCode.failure;
  }
}
