import { Option, type Command } from 'commander';
import { buildReport, renderReport } from '../../checks/report.js';
import { selectSource, type SourceConfig } from '../../config/sources.js';
import { loadYamlFile } from '../../config/yaml-file.js';
import { renderProgressLine } from '../../copy/progress.js';
import { UsageError } from '../../errors.js';
import { VmCustomizationSchema } from '../../manifests/customization.js';
import type { OsMap } from '../../mapping/os-map.js';
import type { Mappings } from '../../mapping/resource-mapping.js';
import { importJob } from '../../objects/import-job.js';
import { loadSeedObjects } from '../../objects/seed-objects.js';
import { ExitCode } from '../../model.js';
import { runConversion } from '../../pipeline/convert-vm.js';
import { readMappingFile, readOsMapFile, type ConversionJob } from '../../pipeline/job.js';
import { vmioProgress } from '../../vmio.js';
import { DISK_TRANSPORTS, type DiskTransport } from '../../source.js';
import type { CliContext } from '../context.js';
import { pipelineDeps, withSourcePool } from '../pipeline-deps.js';
import { renderData } from '../output.js';
import { checkWritableDir } from '../target-dir.js';

interface ConvertArgs {
  sources?: string;
  source?: string;
  vm?: string;
  filename?: string[];
  target: string;
  mapping?: string;
  osMap?: string;
  nicNaming: 'eth' | 'keep';
  blockDevice?: string[];
  vddkLibdir?: string;
  vddkConfig?: string;
  transports?: string;
  transport: DiskTransport;
  namespace?: string;
  targetName?: string;
  start?: boolean;
  verifyBoot?: boolean;
  customize?: string;
  output: 'text' | 'json';
}

/** `--block-device 1=/dev/sdb` → [undefined, '/dev/sdb'] */
export function parseBlockDevices(specs: string[] | undefined): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  for (const spec of specs ?? []) {
    const m = /^(\d+)=(\/.+)$/.exec(spec);
    if (!m) throw new UsageError('USAGE', `--block-device ${spec}: expected N=/dev/PATH (disk index = device)`, { hint: 'e.g. --block-device 0=/dev/block0' });
    out[Number(m[1])] = m[2];
  }
  return out;
}

/** The VM to convert: named on the command line, or by the one VirtualMachineImport among the seed's objects. */
async function whatToConvert(opts: ConvertArgs): Promise<{
  source: SourceConfig;
  vm: string;
  mappings?: Mappings;
  osMap?: OsMap;
  targetName?: string;
  namespace?: string;
  startVm: boolean;
}> {
  if (opts.filename) {
    if (opts.sources || opts.source || opts.vm)
      throw new UsageError('USAGE', '-f names the VM and its source: leave out --sources, --source and --vm', { hint: 'use either -f FILES or --sources/--source/--vm' });
    const objects = await loadSeedObjects(opts.filename);
    const [vmi, ...more] = objects.imports;
    if (!vmi || more.length) {
      throw new UsageError('USAGE', `convert -f needs exactly one VirtualMachineImport among the objects; found ${objects.imports.length}`, {
        hint: 'give one VirtualMachineImport per convert (batch runs many)',
      });
    }
    const ij = importJob(objects, vmi);
    return {
      source: ij.source,
      vm: ij.vmRef,
      ...(ij.mappings ? { mappings: ij.mappings } : {}),
      osMap: ij.osMap,
      ...(ij.targetVmName ? { targetName: ij.targetVmName } : {}),
      namespace: ij.namespace,
      startVm: ij.startVm,
    };
  }
  if (!opts.sources || !opts.source || !opts.vm)
    throw new UsageError('USAGE', 'convert needs --sources, --source and --vm (or -f with a VirtualMachineImport)', { hint: 'see v2v convert --help' });
  return { source: await selectSource(opts.sources, opts.source), vm: opts.vm, startVm: false };
}

export function registerConvert(program: Command, ctx: CliContext): void {
  program
    .command('convert')
    .description('one VM end to end: check, copy its disks, convert the guest, rename NICs, write the KubeVirt objects')
    .option('--sources <file>', 'the sources file (YAML)')
    .option('--source <name>', 'which source of the file')
    .option('--vm <ref>', 'VM name, id, or name@cluster')
    .option('-f, --filename <files...>', "instead of --sources/--source/--vm: the seed's objects (one VirtualMachineImport, its provider Secret, ResourceMapping, OS ConfigMap)")
    .requiredOption('--target <dir>', 'where disk<N>/disk.img and manifests/ are written')
    .option('--mapping <file>', 'a ResourceMapping (network, storage and disk mappings)')
    .option('--os-map <file>', "an OS map ConfigMap (guestos2common / osinfo2common) in the seed's format")
    .addOption(new Option('--nic-naming <mode>', 'rename NICs to ethN, or keep their names pinned to MACs').choices(['eth', 'keep']).default('eth'))
    .option('--block-device <N=path...>', 'write disk N to this block device instead of <target>/diskN/disk.img')
    .option('--vddk-libdir <dir>', 'VDDK distribution directory (vSphere; default $V2V_VDDK_LIBDIR, else /opt/vmware-vix-disklib-distrib)')
    .option('--vddk-config <file>', 'VDDK config file passed to VixDiskLib_InitEx')
    .addOption(
      new Option('--transport <how>', 'vSphere disk reader: vddk, datastore (HTTPS /folder, no VDDK needed), or auto (VDDK when its library is there)')
        .choices(DISK_TRANSPORTS)
        .default('auto'),
    )
    .option('--transports <list>', 'VDDK transports in order, e.g. nbdssl:nbd')
    .option('--namespace <ns>', 'namespace of the emitted objects')
    .option('--target-name <name>', 'name of the KubeVirt VirtualMachine')
    .option('--start', 'start the VirtualMachine when it is created (runStrategy: Always)')
    .option('--customize <file>', "the import wizard's choices for the VirtualMachine (YAML: description, os, flavor, cpu, memory, workload, cloudInit, cdroms, nics, disks, …)")
    .option('--verify-boot', "boot the converted disks in qemu (virtio, the NIC's MAC) and require the NIC to come up; BOOT_CHECK_FAILED otherwise")
    .addOption(new Option('-o, --output <format>', 'summary format').choices(['text', 'json']).default('text'))
    .action(async (opts: ConvertArgs) => {
      const blockDevices = parseBlockDevices(opts.blockDevice);
      await checkWritableDir(opts.target, `--target ${opts.target}`);
      const what = await whatToConvert(opts);
      const config = what.source;
      const mappings = opts.mapping ? await readMappingFile(opts.mapping, config.type) : what.mappings;
      const customize = opts.customize ? await loadYamlFile(opts.customize, VmCustomizationSchema, 'the customization file') : undefined;
      const targetName = opts.targetName ?? what.targetName;
      const namespace = opts.namespace ?? what.namespace;
      const job: ConversionJob = {
        source: config,
        vm: what.vm,
        ...(mappings ? { mappings } : {}),
        osMap: opts.osMap || !what.osMap ? await readOsMapFile(opts.osMap) : what.osMap,
        targetDir: opts.target,
        blockDevices,
        manifest: {
          ...(targetName ? { name: targetName } : {}),
          ...(namespace ? { namespace } : {}),
          startVm: Boolean(opts.start) || what.startVm,
          ...(customize ? { customize } : {}),
        },
        nicNaming: opts.nicNaming,
        guestConversion: true,
        ...(opts.verifyBoot ? { verifyBoot: true } : {}),
        transport: opts.transport,
        vddk: {
          libraryDir: opts.vddkLibdir ?? ctx.runtime.vddkLibDir,
          ...(opts.vddkConfig ? { configFile: opts.vddkConfig } : {}),
          ...(opts.transports ? { transports: opts.transports.split(':') } : {}),
        },
      };
      const tty = Boolean((ctx.stderr as NodeJS.WriteStream).isTTY);
      const outcome = await withSourcePool(ctx, (sources) =>
        runConversion(job, pipelineDeps(ctx, sources), {
          phase: (phase, fraction, message) => ctx.log.info({ event: 'phase', ...vmioProgress(phase, fraction), vm: what.vm }, message),
          diskProgress: (index, p) => {
            if (tty) ctx.stderr.write(`\r${renderProgressLine(p)}\x1b[K${p.phase === 'done' ? '\n' : ''}`);
            else ctx.log.info({ event: 'progress', diskIndex: index, ...p }, 'copy progress');
          },
          conversion: (e) => ctx.log.info({ event: 'conversion', ...e }, 'conversion progress'),
        }),
      );
      const { vm, check } = outcome.prepared;
      const report = buildReport([{ result: check, source: config.name }], mappings !== undefined);
      if (outcome.status === 'blocked') {
        // Refused before any byte moves: the seed's "running or paused" failure, named earlier.
        ctx.stderr.write(renderReport(report));
        ctx.exitCode = ExitCode.critical;
        return;
      }
      const { result } = outcome;
      const summary = {
        vm: vm.name,
        skipped: result.skipped,
        disks: result.disks,
        os: result.conversion?.os,
        nics: result.conversion?.nics,
        ...(result.bootCheck ? { bootCheck: result.bootCheck } : {}),
        manifests: result.manifests,
        warnings: [...report.vms[0]!.concerns.filter((c) => c.category !== 'Critical').map((c) => `${c.id}: ${c.label}`), ...result.warnings],
      };
      if (opts.output === 'json') ctx.stdout.write(renderData(summary, 'json'));
      else {
        ctx.stdout.write(result.skipped ? `${vm.name}: already converted in ${opts.target}; nothing to do\n` : `${vm.name}: converted into ${opts.target}\n`);
        for (const d of result.disks) ctx.stdout.write(`  disk${d.index}: ${d.path}${d.skipped ? ' (already copied)' : ''}\n`);
        if (result.bootCheck)
          ctx.stdout.write(`  boot check: passed, NIC ${result.bootCheck.mac} came up (${result.bootCheck.evidence}, ${result.bootCheck.seconds} s, ${result.bootCheck.accel})\n`);
        for (const f of result.manifests) ctx.stdout.write(`  manifest: ${f}\n`);
        for (const w of summary.warnings) ctx.stdout.write(`  warning: ${w}\n`);
      }
      ctx.exitCode = ExitCode.ok;
    });
}
