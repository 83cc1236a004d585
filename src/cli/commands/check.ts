import { Option, type Command } from 'commander';
import { checkVm } from '../../checks/evaluate.js';
import type { TargetFacts } from '../../checks/types.js';
import { buildReport, renderReport, type CheckReport } from '../../checks/report.js';
import { planVm } from '../../mapping/resolve.js';
import { ExitCode } from '../../model.js';
import type { CliContext } from '../context.js';
import { withSourcePool } from '../pipeline-deps.js';
import { OUTPUT_FORMATS, renderData, type OutputFormat } from '../output.js';
import { parseTargetStorageClasses } from '../target-facts.js';
import { gatherSelection, type Selection, type SelectionArgs } from '../vm-selection.js';

/** Pure: the selected VMs → the report. */
export function evaluateSelection(selection: Selection, target?: TargetFacts): CheckReport {
  const checked = selection.items.map((item) => ({
    result: checkVm(item.vm, item.mappings ? planVm(item.vm, item.mappings) : undefined, target),
    source: item.source.name,
    ...(item.importName ? { importName: item.importName } : {}),
  }));
  return buildReport(checked, selection.mappingEvaluated);
}

export function addSelectionOptions(cmd: Command): Command {
  return cmd
    .option('--sources <file>', 'the sources file (YAML)')
    .option('--source <name>', 'which source of the file')
    .option('--vm <ref...>', 'VM name, id, or name@cluster (repeatable)')
    .option('--all', 'every VM and template of the source')
    .option('--mapping <file>', 'a ResourceMapping (v2v.kubevirt.io/v1alpha1) with network, storage and disk mappings')
    .option('--os-map <file>', "an OS map ConfigMap (guestos2common / osinfo2common) in the seed's format")
    .option('-f, --filename <files...>', "the seed's objects: VirtualMachineImport, ResourceMapping, provider Secret, OS ConfigMap");
}

export function registerCheck(program: Command, ctx: CliContext): void {
  addSelectionOptions(program.command('check').description('dry-run checks: which VMs can move, which cannot and why, with a hint each'))
    .option('--target-storage-class <spec...>', 'a storage class the target has, NAME or NAME=FREE (e.g. standard=500Gi); repeatable')
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
    .action(async (opts: SelectionArgs & { output: OutputFormat; targetStorageClass?: string[] }) => {
      const target = parseTargetStorageClasses(opts.targetStorageClass);
      const selection = await withSourcePool(ctx, (sources) => gatherSelection(opts, sources));
      const report = evaluateSelection(selection, target);
      ctx.stdout.write(opts.output === 'table' ? renderReport(report) : renderData(report, opts.output));
      ctx.exitCode = report.summary.invalid > 0 ? ExitCode.critical : ExitCode.ok;
    });
}
