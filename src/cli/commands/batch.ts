import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { openDiskSource, openSource } from '../../../adapters/index.js';
import { conversionJob, toYamlStream } from '../../batch/jobs.js';
import { loadBatchPlan, type PlannedVm, type ResolvedPlan } from '../../batch/plan.js';
import { runBatch, type BatchReport } from '../../batch/runner.js';
import { StateStore } from '../../batch/state.js';
import { checkVm } from '../../checks/evaluate.js';
import type { SourceConfig } from '../../config/sources.js';
import { UsageError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { DEFAULT_OS_MAP, resolveOs } from '../../mapping/os-map.js';
import { planVm, type VmPlan } from '../../mapping/resolve.js';
import type { Mappings } from '../../mapping/resource-mapping.js';
import type { SourceVm } from '../../model.js';
import { mappingsFromObjects } from '../../objects/import-job.js';
import { loadSeedObjects } from '../../objects/seed-objects.js';
import { convertVm } from '../../pipeline/convert-vm.js';
import { selectVm, type SourceProvider } from '../../source.js';
import { PodJobSchema } from '../../worker/job.js';
import type { CliContext } from '../context.js';
import { PIPELINE_DEPS } from '../pipeline-deps.js';
import { humanBytes, renderData, table } from '../output.js';
import { withStopSignals } from '../signals.js';

interface BatchArgs {
  concurrency?: string;
  state?: string;
  output: 'table' | 'json';
  emit?: 'jobs';
  outputDir?: string;
  image: string;
  vddkImage?: string;
  secret?: string;
  namespace?: string;
  vddkLibdir: string;
}

/** One connection and one inventory per source, shared by every VM of the plan. */
class Sources {
  private readonly open = new Map<string, Promise<{ provider: SourceProvider; vms: SourceVm[] }>>();
  private readonly mappings = new Map<string, Promise<Mappings | undefined>>();
  constructor(private readonly plan: ResolvedPlan) {}

  config(name: string): SourceConfig {
    return this.plan.sources.find((s) => s.name === name)!;
  }

  get(name: string): Promise<{ provider: SourceProvider; vms: SourceVm[] }> {
    let entry = this.open.get(name);
    if (!entry) {
      entry = (async () => {
        const provider = await openSource(this.config(name));
        return { provider, vms: await provider.listVms() };
      })();
      this.open.set(name, entry);
    }
    return entry;
  }

  mapping(vm: PlannedVm): Promise<Mappings | undefined> {
    if (!vm.mapping) return Promise.resolve(undefined);
    const key = `${vm.source}:${vm.mapping}`;
    let m = this.mappings.get(key);
    if (!m) {
      m = loadSeedObjects([vm.mapping]).then((o) => mappingsFromObjects(o, this.config(vm.source).type, vm.mapping!));
      this.mappings.set(key, m);
    }
    return m;
  }

  async prepare(vm: PlannedVm): Promise<{ source: SourceVm; plan: VmPlan; mapped: boolean }> {
    const { vms } = await this.get(vm.source);
    const source = selectVm(vms, vm.ref);
    const mappings = await this.mapping(vm);
    return { source, plan: planVm(source, mappings), mapped: mappings !== undefined };
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.open.values()].map(async (e) => (await e).provider.close()));
  }
}

export function renderBatchReport(report: BatchReport): string {
  const rows = report.vms.map((v) => [
    v.key,
    v.phase,
    v.durationMs !== undefined ? `${(v.durationMs / 1000).toFixed(1)}s` : '-',
    humanBytes(v.bytesCopied),
    v.concerns.filter((c) => c.category === 'Critical').map((c) => c.id).join(',') || '-',
    v.error ? `${v.error.code}: ${v.error.message}` : '-',
  ]);
  const t = report.totals;
  return `${table(['VM', 'PHASE', 'DURATION', 'COPIED', 'BLOCKED BY', 'ERROR'], rows)}\n${t.succeeded} succeeded, ${t.blocked} blocked, ${t.failed} failed, ${t.pending} pending; ${humanBytes(t.bytesCopied)} copied${report.interrupted ? ' (interrupted: run again to resume)' : ''}\n`;
}

async function emitJobs(plan: ResolvedPlan, sources: Sources, opts: BatchArgs, log: Logger): Promise<string[]> {
  if (!opts.outputDir) throw new UsageError('USAGE', '--emit jobs needs --output-dir DIR', { hint: 'v2v batch plan.yaml --emit jobs --output-dir jobs/' });
  const out = resolve(opts.outputDir);
  await mkdir(out, { recursive: true });
  const files: string[] = [];
  for (const vm of plan.vms) {
    const { source, plan: vmPlan } = await sources.prepare(vm);
    const config = sources.config(vm.source);
    const name = (vm.targetName ?? source.name).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50) || 'vm';
    const job = PodJobSchema.parse({
      source: { name: config.name, type: config.type, url: config.url, ...(config.datacenter ? { datacenter: config.datacenter } : {}), ...(config.insecureSkipVerify ? { insecureSkipVerify: true } : {}) },
      vm: source.id,
      ...(vm.mapping ? { mapping: '/etc/v2v/mapping.yaml' } : {}),
      ...(vm.targetName ? { targetName: vm.targetName } : {}),
      ...(plan.targetNamespace ?? opts.namespace ? { targetNamespace: plan.targetNamespace ?? opts.namespace } : {}),
      nicNaming: vm.nicNaming,
      startVm: vm.startVm,
    });
    const objects = conversionJob({
      name,
      namespace: opts.namespace ?? plan.targetNamespace ?? 'default',
      image: opts.image,
      ...(opts.vddkImage ? { vddkImage: opts.vddkImage } : {}),
      secretName: opts.secret ?? `${config.name}-credentials`,
      job,
      ...(vm.mapping ? { mappingYaml: await readFile(vm.mapping, 'utf8') } : {}),
      volumes: vmPlan.disks.map((d) => ({
        name: `${name}-disk${d.index}`,
        sizeBytes: d.requestBytes,
        ...(d.storageClass ? { storageClass: d.storageClass } : {}),
        volumeMode: d.volumeMode,
        accessMode: d.accessMode,
      })),
    });
    const file = join(out, `${name}.yaml`);
    await writeFile(file, toYamlStream(objects));
    files.push(file);
    log.info({ vm: vm.key, file }, 'wrote conversion job');
  }
  return files;
}

export function registerBatch(program: Command, ctx: CliContext): void {
  program
    .command('batch')
    .description('many VMs from a plan file: all checked first, then converted with bounded concurrency; resumable')
    .argument('<plan>', 'the batch plan (YAML, schemas/batch-plan.schema.json)')
    .option('--concurrency <n>', 'VMs converted at once (default: the plan\'s, else 2)')
    .option('--state <file>', 'the state file that makes a killed run resumable (default: <plan>.state.json)')
    .addOption(new Option('-o, --output <format>', 'report format').choices(['table', 'json']).default('table'))
    .addOption(new Option('--emit <what>', 'write Kubernetes objects instead of converting here').choices(['jobs']))
    .option('--output-dir <dir>', 'with --emit jobs: where the YAML goes (one file per VM)')
    .option('--image <image>', 'with --emit jobs: the v2v image', 'quay.io/v2v/v2v:0.1.0')
    .option('--vddk-image <image>', 'with --emit jobs: the VDDK init image (vSphere)')
    .option('--secret <name>', 'with --emit jobs: the provider Secret (default <source>-credentials)')
    .option('--namespace <ns>', 'with --emit jobs: the namespace (default: the plan\'s targetNamespace)')
    .option('--vddk-libdir <dir>', 'VDDK distribution directory (vSphere)', process.env['V2V_VDDK_LIBDIR'] ?? '/opt/vmware-vix-disklib-distrib')
    .action(async (planFile: string, opts: BatchArgs) => {
      const plan = await loadBatchPlan(planFile);
      const sources = new Sources(plan);
      try {
        if (opts.emit === 'jobs') {
          const files = await emitJobs(plan, sources, opts, ctx.log);
          ctx.stdout.write(files.map((f) => `${f}\n`).join(''));
          return;
        }
        const store = await StateStore.load(opts.state ?? `${planFile}.state.json`, plan.hash);
        const prepared = new Map<string, Awaited<ReturnType<Sources['prepare']>>>();
        await withStopSignals(ctx, 'the batch state is kept, run again to resume', async (signal) => {
          const report = await runBatch(plan.vms, {
            check: async (vm) => {
              const p = await sources.prepare(vm);
              prepared.set(vm.key, p);
              return checkVm(p.source, p.mapped ? p.plan : undefined).concerns;
            },
            convert: async (vm, c) => {
              const p = prepared.get(vm.key) ?? (await sources.prepare(vm));
              const config = sources.config(vm.source);
              const { provider } = await sources.get(vm.source);
              const osinfo = resolveOs(p.source, DEFAULT_OS_MAP)?.osinfo;
              await convertVm(
                {
                  vm: p.source,
                  plan: p.plan,
                  dir: vm.targetDir,
                  manifest: { ...(vm.targetName ? { name: vm.targetName } : {}), ...(plan.targetNamespace ? { namespace: plan.targetNamespace } : {}), startVm: vm.startVm, ...(osinfo ? { osinfo } : {}) },
                  nicNaming: vm.nicNaming,
                  convertGuest: vm.guestConversion,
                  signal: c.signal,
                  disksDone: c.disksDone,
                  onDiskDone: c.markDiskDone,
                  onPhase: (phase, progress) => ctx.log.info({ event: 'phase', vm: vm.key, phase, progress }, `${vm.key}: ${phase}`),
                },
                {
                  openDisk: (v, disk) => openDiskSource(config, provider, v, disk, { vddkLibDir: opts.vddkLibdir }),
                  ...PIPELINE_DEPS,
                  log: ctx.log.child({ vm: vm.key }),
                },
              );
            },
          }, store, { concurrency: opts.concurrency ? Number(opts.concurrency) : plan.concurrency, signal });
          ctx.stdout.write(opts.output === 'json' ? renderData(report, 'json') : renderBatchReport(report));
          ctx.exitCode = report.exitCode;
        });
      } finally {
        await sources.close();
      }
    });
}
