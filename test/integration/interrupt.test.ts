import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BatchState } from '../../src/batch/state.js';
import { podPathsUnder } from '../../src/worker/pod.js';
import { startCli, type CliExit, type CliProcess } from '../helpers/cli.js';
import { makeSparseRaw } from '../helpers/disk-images.js';
import { fakeVddkDir } from '../helpers/fake-vddk.js';
import { GUEST_VM_MAPPING, fakeVddkEnvFor, installGuest } from '../helpers/guest-vm.js';
import { OVIRT_VM_MAPPING, buildVm, defaultInventory, startOvirtFake, uid } from '../helpers/ovirt.js';
import { startVcsim } from '../helpers/vcsim.js';

// The requirement: SIGTERM during the disk copy exits with code 4 within
// 10 s, prints INTERRUPTED on stderr and keeps state resumable, for every
// long-running front end and both sources. On oVirt the image transfer is also
// cancelled on the engine.

const MiB = 2 ** 20;
const EXIT_LIMIT_MS = 10_000;
// A run that ignores SIGTERM is killed after this, so the case reports it instead of hanging.
const EXIT_WAIT_MS = 20_000;
const FIRST_BYTES_WAIT_MS = 60_000;
// Every source read (a VDDK read, an imageio GET) takes this long, and 64 MiB of
// data in 32 extents needs dozens of them: the copy outlasts the wait for its
// first bytes many times over, so the signal always lands mid-copy.
const SLOW_READ_MS = 1000;
const DISK = { size: 256 * MiB, extents: 32, extentSize: 2 * MiB };

/** A source peer with one VM whose single disk is the test image, as every front end needs it. */
interface SourcePeer {
  /** The source's name in its sources file (batch keys are `name/vm`). */
  name: string;
  vm: string;
  sourcesFile: string;
  mappingFile: string;
  /** What the CLI runs with (vSphere: the fake VDDK's settings and slow reads). */
  env: NodeJS.ProcessEnv;
  /** Options of convert and batch that the disk reader needs. */
  readerArgs: string[];
  /** The pod's job file `source:` and `vddkLibDir`, and its mounted Secret (file name → content). */
  pod: { source: Record<string, unknown>; vddkLibDir?: string; secret: Record<string, string> };
  /** Call before a run; the returned check asserts, after the run exited, what the source must show of it. */
  watchRun(): () => void;
  stop(): Promise<void>;
}

interface Run {
  cli: CliProcess;
  /** Disk 0's image: the copy in progress writes here. */
  diskImage: string;
  /** Asserts, after the run exited, that it can be resumed and nothing claims success. */
  expectResumable(): void;
}

interface FrontEnd {
  name: 'convert' | 'batch' | 'pod';
  start(peer: SourcePeer, dir: string): Promise<Run>;
}

let work: string;
let image: string;
const running = new Set<CliProcess>();

function launch(args: string[], env: NodeJS.ProcessEnv): CliProcess {
  // The CLI's default log level: what a user sees, not what a quieter test setting hides.
  const cli = startCli(args, { env: { ...env, V2V_LOG_LEVEL: 'info' } });
  running.add(cli);
  return cli;
}

async function startVsphere(): Promise<SourcePeer> {
  const vcsim = await startVcsim({ cluster: 1, host: 1, standaloneHost: 0, vm: 1, autostart: false });
  try {
    const vm = 'DC0_C0_RP0_VM0';
    const client = await vcsim.client();
    try {
      await installGuest(vcsim, client, vm, image);
    } finally {
      await client.logout();
    }
    const fake = await fakeVddkEnvFor(vcsim);
    const mappingFile = join(work, 'vsphere-mapping.yaml');
    await writeFile(mappingFile, GUEST_VM_MAPPING);
    return {
      name: 'vc',
      vm,
      sourcesFile: await vcsim.sourcesFile({ insecureSkipVerify: true, thumbprint: fake.thumbprint }),
      mappingFile,
      env: { ...fake.env, FAKE_VDDK_FAULTS: `slow-read-ms=${SLOW_READ_MS}` },
      readerArgs: ['--vddk-libdir', fakeVddkDir()],
      pod: {
        source: { type: 'vsphere', url: vcsim.url, insecureSkipVerify: true },
        vddkLibDir: fakeVddkDir(),
        secret: { accessKeyId: vcsim.username, secretKey: vcsim.password, thumbprint: fake.thumbprint },
      },
      watchRun: () => () => undefined,
      stop: () => vcsim.stop(),
    };
  } catch (e) {
    await vcsim.stop();
    throw e;
  }
}

async function startOvirt(): Promise<SourcePeer> {
  const vm = 'vm-interrupt';
  const diskId = uid('disk:interrupt');
  const inventory = defaultInventory();
  inventory.vms.push(buildVm({ name: vm, disks: [{ id: diskId, sizeBytes: DISK.size, interface: 'virtio_scsi', bootable: true }] }, inventory));
  const fake = await startOvirtFake({ inventory, diskFiles: { [diskId]: image }, imageioDelayMs: SLOW_READ_MS });
  try {
    const mappingFile = join(work, 'ovirt-mapping.yaml');
    await writeFile(mappingFile, OVIRT_VM_MAPPING);
    return {
      name: 'rhv',
      vm,
      sourcesFile: await fake.sourcesFile(),
      mappingFile,
      env: {},
      readerArgs: [],
      pod: { source: { type: 'ovirt', url: fake.url }, secret: { accessKeyId: fake.username, secretKey: fake.password, cacert: fake.pki.caPem } },
      watchRun() {
        const before = fake.transfers.length;
        return () => {
          const transfers = fake.transfers.slice(before);
          expect.soft(transfers.length, 'image transfers the run created').toBeGreaterThan(0);
          for (const t of transfers) {
            expect.soft(t.actions, `transfer ${t.id}: actions on the engine`).toContain('cancel');
            expect.soft(t.actions, `transfer ${t.id}: actions on the engine`).not.toContain('finalize');
            expect.soft(t.phases.at(-1), `transfer ${t.id}: last phase (${t.phases.join(' → ')})`).toBe('cancelled_user');
          }
        };
      },
      stop: () => fake.stop(),
    };
  } catch (e) {
    await fake.stop();
    throw e;
  }
}

function expectCopyKept(targetDir: string, diskImage: string): void {
  expect.soft(existsSync(`${diskImage}.v2v-partial`), `the partial marker of ${diskImage} is kept`).toBe(true);
  expect.soft(existsSync(join(targetDir, '.v2v-complete.json')), `no .v2v-complete.json in ${targetDir}`).toBe(false);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return `not JSON: ${JSON.stringify(text.slice(0, 500))}`;
  }
}

const FRONT_ENDS: FrontEnd[] = [
  {
    name: 'convert',
    async start(peer, dir) {
      const target = join(dir, 'target');
      const cli = launch(
        ['convert', '--sources', peer.sourcesFile, '--source', peer.name, '--vm', peer.vm, '--target', target, '--mapping', peer.mappingFile, ...peer.readerArgs, '-o', 'json'],
        peer.env,
      );
      const diskImage = join(target, 'disk0', 'disk.img');
      return {
        cli,
        diskImage,
        expectResumable() {
          expectCopyKept(target, diskImage);
          expect.soft(cli.stdout(), 'no conversion summary on stdout').toBe('');
        },
      };
    },
  },
  {
    name: 'batch',
    async start(peer, dir) {
      const plan = join(dir, 'plan.yaml');
      const state = join(dir, 'state.json');
      await writeFile(
        plan,
        stringify({
          apiVersion: 'v2v.kubevirt.io/v1alpha1',
          kind: 'BatchPlan',
          sourcesFile: peer.sourcesFile,
          defaults: { source: peer.name, mapping: peer.mappingFile, targetDir: 'out', concurrency: 1 },
          vms: [{ vm: peer.vm }],
        }),
      );
      const cli = launch(['batch', plan, '--state', state, ...peer.readerArgs, '-o', 'json'], peer.env);
      const vmDir = join(dir, 'out', peer.vm);
      const diskImage = join(vmDir, 'disk0', 'disk.img');
      return {
        cli,
        diskImage,
        expectResumable() {
          expectCopyKept(vmDir, diskImage);
          const key = `${peer.name}/${peer.vm}`;
          const saved = existsSync(state) ? (JSON.parse(readFileSync(state, 'utf8')) as BatchState) : undefined;
          expect.soft(saved?.vms[key]?.phase, `${key} in the state file ${state}`).toBe('pending');
          expect.soft(parseJson(cli.stdout()), 'the JSON report on stdout').toMatchObject({
            interrupted: true,
            exitCode: 4,
            vms: [{ key, phase: 'pending' }],
          });
        },
      };
    },
  },
  {
    name: 'pod',
    async start(peer, dir) {
      const paths = podPathsUnder(dir);
      for (const d of [paths.secretDir, join(paths.disksDir, 'disk0'), dirname(paths.job), dirname(paths.terminationLog)]) await mkdir(d, { recursive: true });
      for (const [key, value] of Object.entries(peer.pod.secret)) await writeFile(join(paths.secretDir, key), value);
      await writeFile(
        paths.job,
        stringify({
          source: peer.pod.source,
          vm: peer.vm,
          mapping: peer.mappingFile,
          disks: [{ volumeMode: 'Filesystem' }],
          ...(peer.pod.vddkLibDir ? { vddkLibDir: peer.pod.vddkLibDir } : {}),
        }),
      );
      const cli = launch(
        [
          'pod',
          '--job',
          paths.job,
          '--secret-dir',
          paths.secretDir,
          '--disks-dir',
          paths.disksDir,
          '--block-prefix',
          paths.blockPrefix,
          '--termination-log',
          paths.terminationLog,
          '--metrics-port',
          '0',
          '--results-port',
          '0',
        ],
        peer.env,
      );
      const diskImage = join(paths.disksDir, 'disk0', 'disk.img');
      return {
        cli,
        diskImage,
        expectResumable() {
          expectCopyKept(paths.disksDir, diskImage);
          const terminationLog = existsSync(paths.terminationLog) ? readFileSync(paths.terminationLog, 'utf8') : '(missing)';
          expect.soft(terminationLog, 'the termination log').toMatch(/^interrupted /);
        },
      };
    },
  },
];

const SOURCES: { name: 'vsphere' | 'ovirt'; start(): Promise<SourcePeer> }[] = [
  { name: 'vsphere', start: startVsphere },
  { name: 'ovirt', start: startOvirt },
];

/** Waits until the copy has really begun: its partial marker is down and disk 0 holds copied bytes. */
async function waitForFirstCopiedBytes(run: Run): Promise<void> {
  const deadline = performance.now() + FIRST_BYTES_WAIT_MS;
  const copying = () => existsSync(`${run.diskImage}.v2v-partial`) && (statSync(run.diskImage, { throwIfNoEntry: false })?.blocks ?? 0) > 0;
  while (!copying()) {
    const { exitCode, signalCode } = run.cli.child;
    if (exitCode !== null || signalCode !== null) throw new Error(`v2v ended (${exitCode ?? signalCode}) before copying a byte:\n${run.cli.stderr().slice(-3000)}`);
    if (performance.now() > deadline) throw new Error(`no byte copied to ${run.diskImage} within ${FIRST_BYTES_WAIT_MS / 1000} s:\n${run.cli.stderr().slice(-3000)}`);
    await sleep(50);
  }
}

async function exitWithin(cli: CliProcess, ms: number): Promise<CliExit | string> {
  const exit = await Promise.race([cli.exited, sleep(ms).then(() => undefined)]);
  if (exit) return exit;
  cli.child.kill('SIGKILL');
  await cli.exited;
  return `still running ${ms / 1000} s after SIGTERM (killed)`;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'v2v-interrupt-'));
  image = join(work, 'source.raw');
  makeSparseRaw(image, DISK.size, DISK.extents, DISK.extentSize);
});

afterEach(async () => {
  for (const cli of running) {
    if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
    await Promise.race([cli.exited, cli.closed]);
  }
  running.clear();
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe.each(SOURCES)('SIGTERM during the disk copy from $name', (source) => {
  let peer: SourcePeer | undefined;
  beforeAll(async () => {
    peer = await source.start();
  }, 180_000);
  afterAll(async () => peer?.stop());

  it.each(FRONT_ENDS)(
    'v2v $name: exit 4 within 10 s, INTERRUPTED on stderr, state resumable',
    async (frontEnd) => {
      if (!peer) throw new Error(`the ${source.name} peer did not start`);
      const dir = await mkdtemp(join(work, `${frontEnd.name}-${source.name}-`));
      const checkSourceReleased = peer.watchRun();
      const run = await frontEnd.start(peer, dir);
      await waitForFirstCopiedBytes(run);

      const sentAt = performance.now();
      run.cli.child.kill('SIGTERM');
      const exit = await exitWithin(run.cli, EXIT_WAIT_MS);
      const exitMs = performance.now() - sentAt;
      // The streams close right after exit unless a leftover grandchild holds them.
      await Promise.race([run.cli.closed, sleep(5_000)]);

      expect.soft(exit, `exit after SIGTERM; stderr ends:\n${run.cli.stderr().slice(-3000)}`).toEqual({ code: 4, signal: null });
      expect.soft(exitMs, 'ms from SIGTERM to exit').toBeLessThan(EXIT_LIMIT_MS);
      expect.soft(run.cli.stderr(), 'stderr').toMatch(/\bINTERRUPTED\b/);
      run.expectResumable();
      checkSourceReleased();
    },
    120_000,
  );
});
