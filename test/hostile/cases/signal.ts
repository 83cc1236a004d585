// SIGTERM (or Ctrl-C) at any point of a run: exit 4 with `error INTERRUPTED` within 10 s, the state
// resumable (the copy's partial marker kept, the batch VM pending, the pod's termination log), and the
// source released (an oVirt transfer cancelled on the engine). Mid-copy for every front end and both
// sources (a batch holds one VM of each), an import, a source that never answers, and a process still
// loading its modules.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import type { BatchState } from '../../../src/batch/state.js';
import { makePki } from '../../helpers/certs.js';
import { makeSparseRaw } from '../../helpers/disk-images.js';
import { fakeVddkDir } from '../../helpers/fake-vddk.js';
import { GUEST_VM_MAPPING, fakeVddkEnvFor, installGuest } from '../../helpers/guest-vm.js';
import { startImageServer } from '../../helpers/image-server.js';
import { OVIRT_VM_MAPPING, buildVm, defaultInventory, startOvirtFake, uid } from '../../helpers/ovirt.js';
import { startVcsim } from '../../helpers/vcsim.js';
import type { CaseResult, HostileCase, HostileContext, HostileRun } from '../harness.js';

const MiB = 2 ** 20;
/** Every source read (a VDDK read, an imageio GET) takes this long: the copy outlasts the wait for it many times over. */
const SLOW_READ_MS = 1000;
const DISK = { size: 256 * MiB, extents: 32, extentSize: 2 * MiB };
const EXIT_AFTER_SIGNAL_MS = 10_000;
/** The VMIO progress of the copy is past its start (10 %) in every front end's log: bytes have moved. */
const COPYING = /"phase":"CopyingDisks","progress":(1[1-9]|[2-7]\d)\b/;

type SourceKind = 'vsphere' | 'ovirt';

/** One VM on a running source peer, as every front end needs it. */
interface Peer {
  /** Its entry in the sources file. */
  entry: { name: string } & Record<string, unknown>;
  vm: string;
  mappingFile: string;
  env: NodeJS.ProcessEnv;
  /** Options of convert and batch that its disk reader needs. */
  readerArgs: string[];
  /** The pod's job file `source:`, `vddkLibDir`, and its mounted Secret. */
  pod: { source: Record<string, unknown>; vddkLibDir?: string; secret: Record<string, string> };
  /** Throws unless the source shows the run let go of it (an oVirt transfer cancelled, never finalized). */
  released(): void;
}

function sparseDisk(ctx: HostileContext): string {
  const path = join(ctx.inputs, 'disk.raw');
  if (!existsSync(path)) makeSparseRaw(path, DISK.size, DISK.extents, DISK.extentSize);
  return path;
}

async function vspherePeer(ctx: HostileContext): Promise<Peer> {
  const vcsim = await startVcsim({ cluster: 1, host: 1, standaloneHost: 0, vm: 1, autostart: false, password: ctx.secret });
  ctx.defer(() => vcsim.stop());
  const vm = 'DC0_C0_RP0_VM0';
  const client = await vcsim.client();
  try {
    await installGuest(vcsim, client, vm, sparseDisk(ctx));
  } finally {
    await client.logout();
  }
  const vddk = await fakeVddkEnvFor(vcsim);
  const mappingFile = join(ctx.inputs, 'vsphere-mapping.yaml');
  writeFileSync(mappingFile, GUEST_VM_MAPPING);
  return {
    entry: { name: 'vc', type: 'vsphere', url: vcsim.url, username: vcsim.username, passwordFile: ctx.secretPath, insecureSkipVerify: true, thumbprint: vddk.thumbprint },
    vm,
    mappingFile,
    env: { ...vddk.env, FAKE_VDDK_FAULTS: `slow-read-ms=${SLOW_READ_MS}` },
    readerArgs: ['--vddk-libdir', fakeVddkDir()],
    pod: {
      source: { type: 'vsphere', url: vcsim.url, insecureSkipVerify: true },
      vddkLibDir: fakeVddkDir(),
      secret: { accessKeyId: vcsim.username, secretKey: ctx.secret, thumbprint: vddk.thumbprint },
    },
    released: () => undefined,
  };
}

async function ovirtPeer(ctx: HostileContext): Promise<Peer> {
  const vm = 'vm-signal';
  const diskId = uid('disk:signal');
  const inventory = defaultInventory();
  inventory.vms.push(buildVm({ name: vm, disks: [{ id: diskId, sizeBytes: DISK.size, interface: 'virtio_scsi', bootable: true }] }, inventory));
  const fake = await startOvirtFake({ inventory, diskFiles: { [diskId]: sparseDisk(ctx) }, imageioDelayMs: SLOW_READ_MS, password: ctx.secret });
  ctx.defer(() => fake.stop());
  const mappingFile = join(ctx.inputs, 'ovirt-mapping.yaml');
  writeFileSync(mappingFile, OVIRT_VM_MAPPING);
  return {
    entry: { name: 'rhv', type: 'ovirt', url: fake.url, username: fake.username, passwordFile: ctx.secretPath, caFile: fake.pki.caCert },
    vm,
    mappingFile,
    env: {},
    readerArgs: [],
    pod: { source: { type: 'ovirt', url: fake.url }, secret: { accessKeyId: fake.username, secretKey: ctx.secret, cacert: fake.pki.caPem } },
    released() {
      if (fake.transfers.length === 0) throw new Error('the run created no image transfer on the engine');
      for (const t of fake.transfers) {
        const history = `${t.actions.join(', ')}; phases ${t.phases.join(' → ')}`;
        if (!t.actions.includes('cancel') || t.actions.includes('finalize') || t.phases.at(-1) !== 'cancelled_user') {
          throw new Error(`transfer ${t.id} was not cancelled on the engine (${history})`);
        }
      }
    },
  };
}

const PEERS: Record<SourceKind, (ctx: HostileContext) => Promise<Peer>> = { vsphere: vspherePeer, ovirt: ovirtPeer };

function sourcesFile(ctx: HostileContext, entries: Record<string, unknown>[]): string {
  const path = join(ctx.inputs, 'sources.yaml');
  writeFileSync(path, stringify({ sources: entries }));
  return path;
}

/** What a case's check needs of its setup. */
const runs = new WeakMap<HostileContext, { peers: Peer[]; resumable(result: CaseResult): void }>();

function expectMarker(path: string): void {
  if (!existsSync(`${path}.v2v-partial`)) throw new Error(`the partial marker of ${path} is gone: the copy would not resume`);
}

function exitedSoonAfterSignal(result: CaseResult): void {
  if (result.signalledAtMs === undefined) throw new Error('no signal was sent');
  const ms = result.ms - result.signalledAtMs;
  if (ms > EXIT_AFTER_SIGNAL_MS) throw new Error(`exited ${ms} ms after the signal (at most ${EXIT_AFTER_SIGNAL_MS})`);
}

const V2V_ENV = { V2V_LOG_LEVEL: 'info' };

async function convertRun(ctx: HostileContext, kind: SourceKind): Promise<HostileRun> {
  const peer = await PEERS[kind](ctx);
  const sources = sourcesFile(ctx, [peer.entry]);
  const disk = join(ctx.target, 'disk0', 'disk.img');
  runs.set(ctx, {
    peers: [peer],
    resumable: (result) => {
      expectMarker(disk);
      if (result.stdout !== '') throw new Error('a conversion summary was printed');
    },
  });
  return {
    args: ['convert', '--sources', sources, '--source', peer.entry.name, '--vm', peer.vm, '--target', ctx.target, '--mapping', peer.mappingFile, ...peer.readerArgs, '-o', 'json'],
    env: { ...V2V_ENV, ...peer.env },
    signalWhen: { output: COPYING },
  };
}

async function podRun(ctx: HostileContext, kind: SourceKind, options: { signalWhen?: RegExp; env?: NodeJS.ProcessEnv } = {}): Promise<HostileRun> {
  const peer = await PEERS[kind](ctx);
  const secretDir = join(ctx.inputs, 'secret');
  mkdirSync(secretDir);
  for (const [key, value] of Object.entries(peer.pod.secret)) writeFileSync(join(secretDir, key), value);
  const job = join(ctx.inputs, 'job.yaml');
  writeFileSync(
    job,
    stringify({
      source: peer.pod.source,
      vm: peer.vm,
      mapping: peer.mappingFile,
      disks: [{ volumeMode: 'Filesystem' }],
      ...(peer.pod.vddkLibDir ? { vddkLibDir: peer.pod.vddkLibDir } : {}),
    }),
  );
  const disksDir = join(ctx.target, 'mnt', 'disks');
  mkdirSync(join(disksDir, 'disk0'), { recursive: true });
  mkdirSync(join(ctx.target, 'dev'));
  const terminationLog = join(ctx.target, 'dev', 'termination-log');
  const copying = options.signalWhen === undefined;
  runs.set(ctx, {
    peers: copying ? [peer] : [],
    resumable: () => {
      if (copying) expectMarker(join(disksDir, 'disk0', 'disk.img'));
      const summary = existsSync(terminationLog) ? readFileSync(terminationLog, 'utf8') : '(none)';
      if (!/^interrupted /.test(summary)) throw new Error(`the termination log says ${JSON.stringify(summary)}`);
    },
  });
  return {
    args: [
      'pod',
      '--job',
      job,
      '--secret-dir',
      secretDir,
      '--disks-dir',
      disksDir,
      '--block-prefix',
      join(ctx.target, 'dev', 'block'),
      '--termination-log',
      terminationLog,
      '--metrics-port',
      '0',
      '--results-port',
      '0',
    ],
    env: { ...V2V_ENV, ...peer.env, ...options.env },
    signalWhen: { output: options.signalWhen ?? COPYING },
  };
}

/** One batch over a VM of each source, two at once: the signal comes once both copy. */
async function batchRun(ctx: HostileContext): Promise<HostileRun> {
  const peers = await Promise.all([vspherePeer(ctx), ovirtPeer(ctx)]);
  const plan = join(ctx.inputs, 'plan.yaml');
  writeFileSync(
    plan,
    stringify({
      apiVersion: 'v2v.kubevirt.io/v1alpha1',
      kind: 'BatchPlan',
      sourcesFile: sourcesFile(
        ctx,
        peers.map((p) => p.entry),
      ),
      defaults: { targetDir: ctx.target, concurrency: 2 },
      vms: peers.map((p) => ({ vm: p.vm, source: p.entry.name, mapping: p.mappingFile })),
    }),
  );
  const state = join(ctx.target, 'state.json');
  const keys = peers.map((p) => `${p.entry.name}/${p.vm}`);
  runs.set(ctx, {
    peers,
    resumable: (result) => {
      for (const p of peers) expectMarker(join(ctx.target, p.vm, 'disk0', 'disk.img'));
      const saved = JSON.parse(readFileSync(state, 'utf8')) as BatchState;
      for (const key of keys) if (saved.vms[key]?.phase !== 'pending') throw new Error(`${key} is ${saved.vms[key]?.phase} in the state file, not pending`);
      const report = JSON.parse(result.stdout) as { interrupted: boolean; exitCode: number; vms: { key: string; phase: string }[] };
      if (!report.interrupted || report.exitCode !== 4 || report.vms.some((v) => v.phase !== 'pending')) throw new Error(`the report says ${result.stdout}`);
    },
  });
  const bothCopying = new RegExp(keys.map((k) => `(?=[\\s\\S]*"msg":"${k.replace(/[/.]/g, '\\$&')}: copying disk)`).join(''));
  return {
    args: ['batch', plan, '--state', state, '--vddk-libdir', fakeVddkDir(), '-o', 'json'],
    env: { ...V2V_ENV, ...peers[0]!.env },
    signalWhen: { output: bothCopying },
  };
}

/** A TLS server that completes the handshake and never answers: a source too busy to reply. */
async function silentServer(ctx: HostileContext): Promise<{ url: string; caFile: string }> {
  const pki = makePki('silent-source');
  const sockets = new Set<Socket>();
  const server = createTlsServer({ key: readFileSync(pki.serverKey), cert: readFileSync(pki.serverCert) }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  ctx.defer(() => {
    for (const s of sockets) s.destroy();
    return new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as { port: number };
  return { url: `https://127.0.0.1:${port}`, caFile: pki.caCert };
}

const INTERRUPTED = { code: 'INTERRUPTED', exit: 4, stderr: /error INTERRUPTED/ } as const;

function check(result: CaseResult, ctx: HostileContext): void {
  exitedSoonAfterSignal(result);
  const warning = /^\(node:\d+\) \w*Warning.*$/m.exec(result.stderr);
  if (warning) throw new Error(`node warned: ${warning[0]}`);
  const run = runs.get(ctx);
  run?.resumable(result);
  for (const peer of run?.peers ?? []) peer.released();
}

export const signalCases: HostileCase[] = [
  {
    id: 'signal.convert-vsphere-copy',
    item: '7',
    what: 'SIGTERM while convert copies a disk from vSphere (VDDK)',
    setup: (ctx) => convertRun(ctx, 'vsphere'),
    expect: { ...INTERRUPTED, deadlineMs: 60_000, check },
  },
  {
    id: 'signal.convert-ovirt-copy',
    item: '7',
    what: 'SIGTERM while convert copies a disk from oVirt (imageio)',
    setup: (ctx) => convertRun(ctx, 'ovirt'),
    expect: { ...INTERRUPTED, deadlineMs: 60_000, check },
  },
  {
    id: 'signal.batch-both-sources-copy',
    item: '7',
    what: 'SIGTERM while a batch copies a vSphere VM and an oVirt VM at once',
    setup: batchRun,
    expect: { ...INTERRUPTED, deadlineMs: 60_000, check },
  },
  {
    id: 'signal.pod-vsphere-copy',
    item: '7',
    what: 'SIGTERM while the conversion pod copies a disk from vSphere',
    setup: (ctx) => podRun(ctx, 'vsphere'),
    expect: { ...INTERRUPTED, deadlineMs: 60_000, check },
  },
  {
    id: 'signal.pod-ovirt-copy',
    item: '7',
    what: 'SIGTERM while the conversion pod copies a disk from oVirt',
    setup: (ctx) => podRun(ctx, 'ovirt'),
    expect: { ...INTERRUPTED, deadlineMs: 60_000, check },
  },
  {
    id: 'signal.import-xz-sigint',
    item: '7',
    what: 'Ctrl-C (SIGINT) while an xz image is imported over HTTP (an xz child decompressing)',
    setup: async (ctx) => {
      const www = join(ctx.inputs, 'www');
      mkdirSync(www);
      const raw = join(ctx.inputs, 'disk.raw');
      writeFileSync(raw, randomBytes(16 * MiB));
      writeFileSync(join(www, 'disk.raw.xz'), execFileSync('xz', ['-0', '-T1', '-c', raw], { maxBuffer: 64 * MiB }));
      const server = await startImageServer({ root: www, throttle: 2 * MiB });
      ctx.defer(() => server.close());
      runs.set(ctx, { peers: [], resumable: () => expectMarker(join(ctx.target, 'disk.img')) });
      return {
        args: ['import', '--url', `${server.url}/disk.raw.xz`, '--target', ctx.target, '--size', '64Mi'],
        env: V2V_ENV,
        signalWhen: { output: /"event":"progress"[^\n]*"bytesWritten":[1-9]/, signal: 'SIGINT' },
      };
    },
    expect: { ...INTERRUPTED, deadlineMs: 60_000, check },
  },
  {
    id: 'signal.convert-vsphere-silent',
    item: '7',
    what: 'SIGTERM while convert waits on a vCenter that accepted the connection and never answers',
    setup: async (ctx) => {
      const silent = await silentServer(ctx);
      const sources = sourcesFile(ctx, [
        { name: 'vc', type: 'vsphere', url: `${silent.url}/sdk`, username: 'administrator@vsphere.local', passwordFile: ctx.secretPath, caFile: silent.caFile },
      ]);
      runs.set(ctx, { peers: [], resumable: () => undefined });
      return {
        args: ['convert', '--sources', sources, '--source', 'vc', '--vm', 'web-01', '--target', ctx.target],
        env: V2V_ENV,
        signalWhen: { output: /"phase":"Validating"/ },
      };
    },
    expect: { ...INTERRUPTED, deadlineMs: 30_000, check },
  },
  {
    id: 'signal.batch-ovirt-silent',
    item: '7',
    what: 'SIGTERM while a batch checks its VMs against an oVirt engine that never answers',
    setup: async (ctx) => {
      const silent = await silentServer(ctx);
      const plan = join(ctx.inputs, 'plan.yaml');
      const state = join(ctx.target, 'state.json');
      writeFileSync(
        plan,
        stringify({
          apiVersion: 'v2v.kubevirt.io/v1alpha1',
          kind: 'BatchPlan',
          sourcesFile: sourcesFile(ctx, [
            { name: 'rhv', type: 'ovirt', url: `${silent.url}/ovirt-engine/api`, username: 'admin@internal', passwordFile: ctx.secretPath, caFile: silent.caFile },
          ]),
          defaults: { source: 'rhv', targetDir: ctx.target },
          vms: [{ vm: 'db-01' }],
        }),
      );
      runs.set(ctx, {
        peers: [],
        resumable: (result) => {
          const saved = existsSync(state) ? (JSON.parse(readFileSync(state, 'utf8')) as BatchState).vms['rhv/db-01'] : undefined;
          if (saved && saved.phase !== 'pending') throw new Error(`rhv/db-01 is ${saved.phase} in the state file`);
          if (!/"interrupted": ?true/.test(result.stdout)) throw new Error(`the report says ${result.stdout}`);
        },
      });
      return { args: ['batch', plan, '--state', state, '-o', 'json'], env: V2V_ENV, signalWhen: { output: /checking every VM before converting any/ } };
    },
    expect: { ...INTERRUPTED, deadlineMs: 30_000, check },
  },
  {
    id: 'signal.pod-starting',
    item: '7',
    what: 'SIGTERM while the conversion pod is still starting (its modules loading slowly, as on a busy node)',
    setup: async (ctx) => {
      // A loader hook slows the loading of the commands and says when it begins, so the signal lands there.
      const hooks = join(ctx.inputs, 'slow-commands.mjs');
      writeFileSync(
        hooks,
        `import { writeSync } from 'node:fs';
let told = false;
export async function load(url, context, nextLoad) {
  if (url.includes('/dist/src/cli/commands/')) {
    if (!told) { told = true; writeSync(2, 'loader: the commands are loading\\n'); }
    await new Promise((resolve) => setTimeout(resolve, 3000));
  }
  return nextLoad(url, context);
}
`,
      );
      const register = join(ctx.inputs, 'register.mjs');
      writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
      return podRun(ctx, 'ovirt', { signalWhen: /loader: the commands are loading/, env: { NODE_OPTIONS: `--import=${pathToFileURL(register).href}` } });
    },
    expect: { ...INTERRUPTED, deadlineMs: 30_000, check },
  },
];
