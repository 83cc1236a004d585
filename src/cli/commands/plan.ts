import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { stringify } from 'yaml';
import { checkVm } from '../../checks/evaluate.js';
import { UsageError } from '../../errors.js';
import { resolveOs } from '../../mapping/os-map.js';
import { planVm } from '../../mapping/resolve.js';
import type { OverheadTable } from '../../mapping/sizing.js';
import { diskClaimName, requireKubeName } from '../../manifests/name.js';
import { buildVirtualMachine, diskClaims, type CopyMode } from '../../manifests/virtual-machine.js';
import type { PersistentVolumeClaim, VirtualMachine } from '../../manifests/types.js';
import { ExitCode } from '../../model.js';
import type { CliContext } from '../context.js';
import { withSourcePool } from '../pipeline-deps.js';
import { checkWritableDir, refuseSharedOutputs } from '../target-dir.js';
import type { Selection, SelectedVm } from '../vm-selection.js';
import { gatherSelection, type SelectionArgs } from '../vm-selection.js';
import { addSelectionOptions } from './check.js';

interface PlanArgs extends SelectionArgs {
  output: 'yaml' | 'json';
  outputDir?: string;
  namespace?: string;
  start?: boolean;
  compatibility?: boolean;
  copy: 'v2v' | 'cdi';
  cdiSecret?: string;
  cdiCaConfigMap?: string;
  filesystemOverhead?: string[];
}

export interface PlannedVm {
  /** The source VM, as the user would recognise it: `web-01 (id 4f2…)`. */
  vm: string;
  name: string;
  virtualMachine: VirtualMachine;
  /** With `--copy v2v`, the PVCs the VM boots (v2v fills them); none when CDI's DataVolumes do. */
  claims: PersistentVolumeClaim[];
  warnings: string[];
  critical: string[];
}

/** `0.1` (every class) or `CLASS=0.1`, repeatable. */
export function parseOverheads(specs: string[] | undefined): OverheadTable {
  const table: OverheadTable = {};
  for (const spec of specs ?? []) {
    const m = /^(?:([^=]+)=)?(0(?:\.\d+)?|\.\d+)$/.exec(spec);
    if (!m) throw new UsageError('USAGE', `--filesystem-overhead ${spec}: expected a fraction in [0, 1) like 0.055, or CLASS=0.055`, { hint: 'CDI’s default is 0.055 (5.5 %)' });
    const value = Number(m[2]);
    if (m[1] === undefined) table.default = value;
    else table.byStorageClass = { ...table.byStorageClass, [m[1]]: value };
  }
  return table;
}

function copyMode(item: SelectedVm, args: PlanArgs): CopyMode {
  if (args.copy === 'v2v') return { kind: 'v2v' };
  const secretRef = args.cdiSecret ?? `${item.source.name}-credentials`;
  if (item.source.type === 'vsphere') return { kind: 'vddk', url: item.source.url, secretRef, ...(item.source.thumbprint ? { thumbprint: item.source.thumbprint } : {}) };
  return { kind: 'imageio', url: item.source.url, secretRef, ...(args.cdiCaConfigMap ? { certConfigMap: args.cdiCaConfigMap } : {}) };
}

/** Pure: the selected VMs → their VirtualMachines, with warnings and the Critical concerns that would stop an import. */
export function planSelection(selection: Selection, args: PlanArgs): PlannedVm[] {
  const overhead = parseOverheads(args.filesystemOverhead);
  return selection.items.map((item) => {
    const plan = planVm(item.vm, item.mappings, overhead);
    const os = resolveOs(item.vm, item.osMap);
    const namespace = args.namespace ?? item.namespace;
    const copy = copyMode(item, args);
    const built = buildVirtualMachine(item.vm, plan, {
      ...(item.targetVmName ? { name: requireKubeName(item.targetVmName) } : {}),
      ...(namespace ? { namespace } : {}),
      startVm: args.start ?? item.startVm ?? false,
      compatibility: args.compatibility ?? false,
      copy,
      ...(os ? { osinfo: os.osinfo } : {}),
    });
    const claimNames = plan.disks.map((d) => diskClaimName(built.name, d.index));
    const warnings = [...built.warnings, ...(os ? [] : [`no template OS for "${item.vm.os.sourceId || item.vm.os.name}": add it to the OS map (osinfo2common)`])];
    const result = checkVm(item.vm, item.mappings ? plan : undefined);
    return {
      vm: `${item.vm.name} (id ${item.vm.id})`,
      name: built.name,
      virtualMachine: built.virtualMachine,
      claims: copy.kind === 'v2v' ? diskClaims(plan, claimNames, namespace ? { namespace } : {}) : [],
      warnings,
      critical: result.concerns.filter((c) => c.category === 'Critical').map((c) => `${c.id}: ${c.assessment}`),
    };
  });
}

export function registerPlan(program: Command, ctx: CliContext): void {
  addSelectionOptions(program.command('plan').description('the KubeVirt objects a conversion would create; nothing is copied'))
    .addOption(new Option('-o, --output <format>', 'output format').choices(['yaml', 'json']).default('yaml'))
    .option('--output-dir <dir>', 'write one <vm>.yaml per VM into DIR instead of stdout')
    .option('--namespace <ns>', 'target namespace of the objects')
    .option('--start', 'runStrategy: Always (default: the VirtualMachineImport startVm, else Halted)')
    .option('--compatibility', 'SATA disks and e1000e NICs, for guests without virtio drivers')
    .addOption(
      new Option(
        '--copy <mode>',
        'v2v: the VM boots PVCs <vm>-disk<N> that v2v fills (convert, the conversion Job); cdi: CDI copies each disk into a DataVolume (source.vddk / source.imageio)',
      )
        .choices(['v2v', 'cdi'])
        .default('v2v'),
    )
    .option('--cdi-secret <name>', 'the Secret CDI reads source credentials from (--copy cdi)')
    .option('--cdi-ca-config-map <name>', 'the ConfigMap with the oVirt CA for CDI imageio (--copy cdi)')
    .option('--filesystem-overhead <spec...>', 'filesystem overhead: FRACTION, or CLASS=FRACTION (default 0.055)')
    .action(async (opts: PlanArgs) => {
      parseOverheads(opts.filesystemOverhead);
      if (opts.outputDir) await checkWritableDir(opts.outputDir, `--output-dir ${opts.outputDir}`);
      const selection = await withSourcePool(ctx, (sources) => gatherSelection(opts, sources));
      const planned = planSelection(selection, opts);
      for (const p of planned) {
        for (const w of p.warnings) ctx.stderr.write(`warning ${p.name}: ${w}\n`);
        for (const c of p.critical) ctx.stderr.write(`critical ${p.name}: ${c}\n`);
      }
      // Each VM with the claims it boots: applying the output creates both.
      const objectsOf = (p: PlannedVm): object[] => [p.virtualMachine, ...p.claims];
      const render = (objects: object[]) =>
        opts.output === 'json'
          ? `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }, null, 2)}\n`
          : objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
      if (opts.outputDir) {
        const files = planned.map((p) => ({ vm: p.vm, file: join(opts.outputDir!, `${p.name}.${opts.output}`), planned: p }));
        refuseSharedOutputs(files, '--output-dir');
        await mkdir(opts.outputDir, { recursive: true });
        for (const { file, planned: p } of files) await writeFile(file, render(objectsOf(p)));
      } else {
        ctx.stdout.write(render(planned.flatMap(objectsOf)));
      }
      ctx.exitCode = planned.some((p) => p.critical.length > 0) ? ExitCode.critical : ExitCode.ok;
    });
}
