import { Option, type Command } from 'commander';
import { selectSource } from '../../config/sources.js';
import { ExitCode } from '../../model.js';
import { OUTPUT_FORMATS, inventoryTable, renderData, type OutputFormat } from '../output.js';
import type { CliContext } from '../context.js';
import { withSourcePool } from '../pipeline-deps.js';

export function registerInventory(program: Command, ctx: CliContext): void {
  program
    .command('inventory')
    .description('list the VMs and templates of a source with power state, OS, disks and NICs')
    .requiredOption('--sources <file>', 'the sources file (YAML)')
    .requiredOption('--source <name>', 'which source of the file')
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
    .action(async (opts: { sources: string; source: string; output: OutputFormat }) => {
      const config = await selectSource(opts.sources, opts.source);
      const vms = await withSourcePool(ctx, (sources) => sources.inventory(config));
      ctx.stdout.write(opts.output === 'table' ? inventoryTable(vms) : renderData({ vms }, opts.output));
      ctx.exitCode = ExitCode.ok;
    });
}
