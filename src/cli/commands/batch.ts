import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { conversionBundle, jobName, toYamlStream } from '../../batch/jobs.js';
import { CONCURRENCY, loadBatchPlan, type PlannedVm, type ResolvedPlan } from '../../batch/plan.js';
import { runBatch, type BatchReport } from '../../batch/runner.js';
import { StateStore, type VmPhase } from '../../batch/state.js';
import type { SourceConfig } from '../../config/sources.js';
import { InterruptedError, UsageError, V2vError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { diskClaimName, MAX_NAME, toKubeName } from '../../manifests/name.js';
import { buildVirtualMachine } from '../../manifests/virtual-machine.js';
import { ExitCode } from '../../model.js';
import { runConversion } from '../../pipeline/convert-vm.js';
import { readMappingFile, readOsMapFile, type ConversionJob } from '../../pipeline/job.js';
import { PodJobSchema } from '../../pipeline/job-file.js';
import { prepareVm } from '../../pipeline/prepare.js';
import type { SourcePool } from '../../pipeline/source-pool.js';
import { vmioProgress, type PipelinePhase } from '../../vmio.js';
import type { CliContext } from '../context.js';
import { pipelineDeps, withSourcePool } from '../pipeline-deps.js';
import { numberOption } from '../numeric-option.js';
import { humanBytes, renderData, table } from '../output.js';
import { checkWritableDir, refuseSharedOutputs } from '../target-dir.js';

interface BatchArgs {
  concurrency?: number;
  state?: string;
  output: 'table' | 'json';
  emit?: 'jobs';
  outputDir?: string;
  image: string;
  vddkImage?: string;
  secret?: string;
  namespace?: string;
  vddkLibdir?: string;
}

/** Each plan entry as the pipeline's job; a file named by many entries is read once. */
class PlanJobs {
  private readonly files = new Map<string, Promise<unknown>>();
  constructor(
    private readonly plan: ResolvedPlan,
    private readonly vddkLibDir: string,
  ) {}

  config(name: string): SourceConfig {
    return this.plan.sources.find((s) => s.name === name)!;
  }

  async job(vm: PlannedVm, disksDone?: readonly number[]): Promise<ConversionJob> {
    const source = this.config(vm.source);
    const mappings = vm.mapping ? await this.once(`mapping:${source.type}:${vm.mapping}`, () => readMappingFile(vm.mapping!, source.type)) : undefined;
    const osMap = await this.once(`os:${vm.osMap ?? ''}`, () => readOsMapFile(vm.osMap));
    return {
      source,
      vm: vm.ref,
      ...(mappings ? { mappings } : {}),
      osMap,
      targetDir: vm.targetDir,
      manifest: {
        ...(vm.targetName ? { name: vm.targetName } : {}),
        ...(this.plan.targetNamespace ? { namespace: this.plan.targetNamespace } : {}),
        startVm: vm.startVm,
        ...(vm.customize ? { customize: vm.customize } : {}),
      },
      nicNaming: vm.nicNaming,
      guestConversion: vm.guestConversion,
      verifyBoot: vm.verifyBoot,
      transport: vm.transport,
      vddk: { libraryDir: this.vddkLibDir },
      ...(disksDone ? { disksDone } : {}),
    };
  }

  private once<T>(key: string, read: () => Promise<T>): Promise<T> {
    let file = this.files.get(key);
    if (!file) {
      file = read();
      this.files.set(key, file);
    }
    return file as Promise<T>;
  }
}

/** The batch state's words for the pipeline's phases. */
const STATE_PHASE: Partial<Record<PipelinePhase, VmPhase>> = { copying: 'copying', converting: 'converting' };

export function renderBatchReport(report: BatchReport): string {
  const rows = report.vms.map((v) => [
    v.key,
    v.phase,
    v.durationMs !== undefined ? `${(v.durationMs / 1000).toFixed(1)}s` : '-',
    humanBytes(v.bytesCopied),
    v.concerns
      .filter((c) => c.category === 'Critical')
      .map((c) => c.id)
      .join(',') || '-',
    String(v.attempts),
    v.error ? `${v.error.code}: ${v.error.message}` : '-',
  ]);
  const t = report.totals;
  const warnings = report.vms.flatMap((v) => v.warnings.map((w) => `warning ${v.key}: ${w}\n`)).join('');
  return `${table(['VM', 'PHASE', 'DURATION', 'COPIED', 'BLOCKED BY', 'ATTEMPTS', 'ERROR'], rows)}\n${warnings}${t.succeeded} succeeded, ${t.blocked} blocked, ${t.failed} failed, ${t.pending} pending; ${humanBytes(t.bytesCopied)} copied${report.interrupted ? ' (interrupted: run again to resume)' : ''}\n`;
}

interface EmittedJobs {
  files: string[];
  /** VMs a check blocked: no bundle, and the rule ids that blocked them. */
  blocked: { key: string; rules: string[] }[];
}

/** Checks every VM first; each valid one gets a bundle a cluster can apply (ConfigMap, PVCs, Job, halted VirtualMachine). */
async function emitJobs(plan: ResolvedPlan, jobs: PlanJobs, sources: SourcePool, opts: BatchArgs, log: Logger): Promise<EmittedJobs> {
  if (!opts.outputDir) throw new UsageError('USAGE', '--emit jobs needs --output-dir DIR', { hint: 'v2v batch plan.yaml --emit jobs --output-dir jobs/' });
  const out = resolve(opts.outputDir);
  await checkWritableDir(out, `--output-dir ${opts.outputDir}`);
  const namespace = opts.namespace ?? plan.targetNamespace ?? 'default';
  const emitted: EmittedJobs = { files: [], blocked: [] };
  const bundles: { vm: string; file: string; yaml: string }[] = [];
  for (const vm of plan.vms) {
    const conversion = await jobs.job(vm);
    const prepared = await prepareVm(conversion, sources);
    const rules = prepared.check.concerns.filter((c) => c.category === 'Critical').map((c) => c.id);
    if (rules.length > 0) {
      emitted.blocked.push({ key: vm.key, rules });
      continue;
    }
    const config = jobs.config(vm.source);
    // Room for the "-v2v-job" suffix within Kubernetes' 63 characters.
    const { name } = toKubeName(vm.targetName ?? prepared.vm.name, 'vm', MAX_NAME - '-v2v-job'.length);
    const claimNames = prepared.plan.disks.map((d) => diskClaimName(name, d.index));
    const built = buildVirtualMachine(prepared.vm, prepared.plan, {
      name,
      namespace,
      // Halted: its disks are empty until the Job has filled them.
      startVm: false,
      claimNames,
      labels: { 'v2v.kubevirt.io/job': jobName(name) },
      ...(prepared.osinfo ? { osinfo: prepared.osinfo } : {}),
      ...(vm.customize ? { customize: vm.customize } : {}),
    });
    const files: Record<string, string> = {};
    if (vm.mapping) files['mapping.yaml'] = await readFile(vm.mapping, 'utf8');
    if (vm.osMap) files['os-map.yaml'] = await readFile(vm.osMap, 'utf8');
    const objects = conversionBundle({
      name,
      namespace,
      image: opts.image,
      ...(opts.vddkImage ? { vddkImage: opts.vddkImage } : {}),
      secretName: opts.secret ?? `${config.name}-credentials`,
      job: PodJobSchema.omit({ disks: true, vddkLibDir: true }).parse({
        source: {
          name: config.name,
          type: config.type,
          url: config.url,
          ...(config.datacenter ? { datacenter: config.datacenter } : {}),
          ...(config.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
          ...(config.allowInsecureHttp ? { allowInsecureHttp: true } : {}),
        },
        vm: prepared.vm.id,
        ...(vm.mapping ? { mapping: '/etc/v2v/mapping.yaml' } : {}),
        ...(vm.osMap ? { osMap: '/etc/v2v/os-map.yaml' } : {}),
        targetName: name,
        targetNamespace: namespace,
        nicNaming: vm.nicNaming,
        startVm: vm.startVm,
        verifyBoot: vm.verifyBoot,
        ...(vm.customize ? { customize: vm.customize } : {}),
        transport: vm.transport,
      }),
      plan: built.plan,
      claimNames,
      virtualMachine: built.virtualMachine,
      files,
    });
    bundles.push({ vm: vm.key, file: join(out, `${name}.yaml`), yaml: toYamlStream(objects) });
  }
  // Nothing is written until every name is known to be distinct.
  refuseSharedOutputs(bundles, '--output-dir');
  await mkdir(out, { recursive: true });
  for (const { vm, file, yaml } of bundles) {
    await writeFile(file, yaml);
    emitted.files.push(file);
    log.info({ vm, file }, 'wrote conversion bundle');
  }
  return emitted;
}

export function registerBatch(program: Command, ctx: CliContext): void {
  program
    .command('batch')
    .description('many VMs from a plan file: all checked first, then converted with bounded concurrency; resumable')
    .argument('<plan>', 'the batch plan (YAML, schemas/batch-plan.schema.json)')
    .addOption(numberOption('--concurrency <n>', "VMs converted at once (default: the plan's, else 2)", { ...CONCURRENCY, integer: true, example: 4 }))
    .option('--state <file>', 'the state file that makes a killed run resumable (default: <plan>.state.json)')
    .addOption(new Option('-o, --output <format>', 'report format').choices(['table', 'json']).default('table'))
    .addOption(new Option('--emit <what>', 'write Kubernetes objects instead of converting here').choices(['jobs']))
    .option('--output-dir <dir>', 'with --emit jobs: where the YAML goes (one file per VM)')
    .option('--image <image>', 'with --emit jobs: the v2v image', 'quay.io/v2v/v2v:0.1.0')
    .option('--vddk-image <image>', 'with --emit jobs: the VDDK init image (vSphere)')
    .option('--secret <name>', 'with --emit jobs: the provider Secret (default <source>-credentials)')
    .option('--namespace <ns>', "with --emit jobs: the namespace (default: the plan's targetNamespace)")
    .option('--vddk-libdir <dir>', 'VDDK distribution directory (vSphere; default $V2V_VDDK_LIBDIR, else /opt/vmware-vix-disklib-distrib)')
    .action(async (planFile: string, opts: BatchArgs) => {
      const plan = await loadBatchPlan(planFile);
      if (opts.emit !== 'jobs') for (const vm of plan.vms) await checkWritableDir(vm.targetDir, `the target of ${vm.key} (${vm.targetDir})`);
      const jobs = new PlanJobs(plan, opts.vddkLibdir ?? ctx.runtime.vddkLibDir);
      await withSourcePool(ctx, async (sources) => {
        if (opts.emit === 'jobs') {
          const { files, blocked } = await emitJobs(plan, jobs, sources, opts, ctx.log);
          ctx.stdout.write(files.map((f) => `${f}\n`).join(''));
          for (const b of blocked) ctx.stderr.write(`blocked ${b.key}: ${b.rules.join(', ')} (no Job written)\n`);
          ctx.exitCode = blocked.length > 0 ? ExitCode.critical : ExitCode.ok;
          return;
        }
        const store = await StateStore.load(opts.state ?? `${planFile}.state.json`, plan.hash);
        ctx.log.info({ vms: plan.vms.length, state: store.path }, 'checking every VM before converting any');
        const report = await runBatch(
          plan.vms,
          {
            check: async (vm) => (await prepareVm(await jobs.job(vm), sources)).check.concerns,
            convert: async (vm, c) => {
              const log = ctx.log.child({ vm: vm.key });
              const outcome = await runConversion(
                await jobs.job(vm, c.disksDone),
                { ...pipelineDeps(ctx, sources), log },
                {
                  phase: (phase, fraction, message) => {
                    const named = vmioProgress(phase, fraction);
                    log.info({ event: 'phase', ...named }, `${vm.key}: ${message}`);
                    const statePhase = STATE_PHASE[phase];
                    if (statePhase && fraction === 0)
                      c.markPhase(statePhase, named.progress).catch((e: unknown) => log.warn({ err: e }, 'could not record the phase in the state file'));
                  },
                  diskDone: c.markDiskDone,
                },
              );
              if (outcome.status === 'blocked') throw new V2vError('VM_BLOCKED', `${vm.key} no longer passes its checks`, { hint: 'run v2v check on it' });
              return { warnings: outcome.result.warnings };
            },
          },
          store,
          { concurrency: opts.concurrency ?? plan.concurrency, signal: ctx.signal },
        );
        ctx.stdout.write(opts.output === 'json' ? renderData(report, 'json') : renderBatchReport(report));
        if (report.interrupted) throw new InterruptedError(`the batch stopped; ${report.totals.succeeded} VM(s) done, the others resume from the state file ${store.path}`);
        ctx.exitCode = report.exitCode;
      });
    });
}
