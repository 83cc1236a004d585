import type { Command } from 'commander';
import { conversionJobFromPodJob, DEFAULT_POD_PATHS, loadPodJob, type PodPaths } from '../../pipeline/job-file.js';
import { runPod } from '../../worker/pod.js';
import type { CliContext } from '../context.js';
import { numberOption, PORT } from '../numeric-option.js';
import { pipelineDeps, withSourcePool } from '../pipeline-deps.js';

interface PodArgs {
  job: string;
  secretDir: string;
  disksDir: string;
  blockPrefix: string;
  terminationLog: string;
  metricsPort: number;
  resultsPort: number;
  linger: number;
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
    .addOption(numberOption('--metrics-port <port>', 'Prometheus metrics port (0: any free port)', { ...PORT, example: 2112 }, 2112))
    .addOption(numberOption('--results-port <port>', 'results API port (/status, /vm, /inspection, /warnings, /healthz; 0: any free port)', { ...PORT, example: 8080 }, 8080))
    .addOption(
      numberOption('--linger <seconds>', 'after success or failure, keep serving results this long or until SIGTERM', { min: 0, max: 86_400, integer: true, example: 600 }, 0),
    )
    .action(async (opts: PodArgs) => {
      const paths: PodPaths = { job: opts.job, secretDir: opts.secretDir, disksDir: opts.disksDir, blockPrefix: opts.blockPrefix, terminationLog: opts.terminationLog };
      const outcome = await withSourcePool(ctx, (sources) =>
        runPod({
          loadJob: async () => conversionJobFromPodJob(await loadPodJob(paths.job), paths),
          paths,
          ports: { metrics: opts.metricsPort, results: opts.resultsPort },
          deps: pipelineDeps(ctx, sources),
          log: ctx.log,
          lingerMs: opts.linger * 1000,
        }),
      );
      // The termination log is written; the error is printed and logged like any command's.
      if (outcome.error !== undefined) throw outcome.error;
      ctx.exitCode = outcome.code;
    });
}
