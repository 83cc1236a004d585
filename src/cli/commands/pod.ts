import type { Command } from 'commander';
import { openDiskSource, openSource } from '../../../adapters/index.js';
import { mappingsFromObjects } from '../../objects/import-job.js';
import { loadSeedObjects } from '../../objects/seed-objects.js';
import { DEFAULT_POD_PATHS, loadPodJob, podSourceConfig } from '../../worker/job.js';
import { runPod } from '../../worker/pod.js';
import type { CliContext } from '../context.js';
import { PIPELINE_DEPS } from '../pipeline-deps.js';
import { withStopSignals } from '../signals.js';

interface PodArgs {
  job: string;
  secretDir: string;
  disksDir: string;
  blockPrefix: string;
  terminationLog: string;
  metricsPort: string;
  resultsPort: string;
  linger: string;
}

export function registerPod(program: Command, ctx: CliContext): void {
  program
    .command('pod')
    .description('the conversion-pod entrypoint: job file, mounted secret, disks at /mnt/disks/disk<N> or /dev/block<N>; metrics on :2112, results on :8080')
    .option('--job <file>', 'the job file', DEFAULT_POD_PATHS.job)
    .option('--secret-dir <dir>', 'the mounted provider Secret (accessKeyId, secretKey, cacert, thumbprint)', DEFAULT_POD_PATHS.secretDir)
    .option('--disks-dir <dir>', 'where Filesystem volumes are mounted as disk<N>/', DEFAULT_POD_PATHS.disksDir)
    .option('--block-prefix <path>', 'Block volumes are <prefix><N>', DEFAULT_POD_PATHS.blockPrefix)
    .option('--termination-log <file>', 'where the one-line summary goes', DEFAULT_POD_PATHS.terminationLog)
    .option('--metrics-port <port>', 'Prometheus metrics port', '2112')
    .option('--results-port <port>', 'results API port (/status, /vm, /inspection, /warnings, /healthz)', '8080')
    .option('--linger <seconds>', 'after success, keep serving results this long or until SIGTERM', '0')
    .action(async (opts: PodArgs) => {
      const job = await loadPodJob(opts.job);
      const config = await podSourceConfig(job, opts.secretDir);
      ctx.exitCode = await withStopSignals(ctx, 'copy state kept, base disks never half-converted', (signal) =>
        runPod({
          job,
          paths: { job: opts.job, secretDir: opts.secretDir, disksDir: opts.disksDir, blockPrefix: opts.blockPrefix, terminationLog: opts.terminationLog },
          ports: { metrics: Number(opts.metricsPort), results: Number(opts.resultsPort) },
          openProvider: () => openSource(config),
          openDisk: (provider, vm, disk) => openDiskSource(config, provider, vm, disk, { vddkLibDir: job.vddkLibDir }),
          loadMappings: async () => (job.mapping ? mappingsFromObjects(await loadSeedObjects([job.mapping]), config.type, job.mapping) : undefined),
          deps: PIPELINE_DEPS,
          log: ctx.log,
          signal,
          lingerMs: Number(opts.linger) * 1000,
        }),
      );
    });
}
