// Input files and paths a careless or hostile user hands the source commands (inventory, check, plan,
// convert, batch, pod): cleartext source URLs, batch target names that escape or collide, resource
// mappings that contradict themselves, corrupt or misplaced state files, targets that cannot be written.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { buildVm, defaultInventory, startOvirtFake } from '../../helpers/ovirt.js';
import { startVcsim } from '../../helpers/vcsim.js';
import type { HostileCase, HostileContext } from '../harness.js';

/** Nothing listens on port 1: a run that gets past its input fails there, quickly, as SOURCE_UNREACHABLE. */
const UNREACHABLE = { vsphere: 'https://127.0.0.1:1/sdk', ovirt: 'https://127.0.0.1:1/ovirt-engine/api' } as const;
type SourceType = keyof typeof UNREACHABLE;

/** YAML of one sources-file entry, one field a line, values as JSON (which YAML reads as is). */
function entryLines(fields: Record<string, unknown>, indent: string): string[] {
  return Object.entries(fields).map(([k, v], i) => `${i === 0 ? `${indent}- ` : `${indent}  `}${k}: ${JSON.stringify(v)}`);
}

/** A source whose password is the case's secret: no output may ever show it. */
function sourceFields(ctx: HostileContext, type: SourceType, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'src', type, url: UNREACHABLE[type], username: 'admin@internal', passwordFile: ctx.secretPath, ...extra };
}

/** Writes inputs/sources.yaml; the url is on line 4. */
function writeSources(ctx: HostileContext, fields: Record<string, unknown>): string {
  const file = join(ctx.inputs, 'sources.yaml');
  writeFileSync(file, ['sources:', ...entryLines(fields, '  '), ''].join('\n'));
  return file;
}

/** Writes inputs/plan.yaml: the sources file, targetDir, then `vms` from line 5, one field a line. */
function writePlan(ctx: HostileContext, vms: Record<string, unknown>[], options: { sourcesFile?: string; targetDir?: string } = {}): string {
  const file = join(ctx.inputs, 'plan.yaml');
  const sourcesFile = options.sourcesFile ?? writeSources(ctx, sourceFields(ctx, 'vsphere'));
  const lines = [`sourcesFile: ${JSON.stringify(sourcesFile)}`, 'defaults:', `  targetDir: ${JSON.stringify(options.targetDir ?? ctx.target)}`, 'vms:'];
  for (const vm of vms) lines.push(...entryLines(vm, '  '));
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** `batch` with its state file in the target, where the run may write. */
function batchRun(ctx: HostileContext, plan: string, ...more: string[]): { args: string[] } {
  return { args: ['batch', plan, '--state', join(ctx.target, 'state.json'), ...more] };
}

/** The line of field `field` of entry `index` in a plan writePlan wrote: entries from line 5, one field a line. */
function planLine(vms: Record<string, unknown>[], index: number, field: string): number {
  const before = vms.slice(0, index).reduce((n, vm) => n + Object.keys(vm).length, 0);
  return 5 + before + Object.keys(vms[index]!).indexOf(field);
}

/** Mounts a read-only tmpfs at `dir` (we run as root, so a chmod would not stop a write) until the case ends. */
function readOnlyMount(ctx: HostileContext, dir: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', dir]);
  ctx.defer(() => execFileSync('umount', [dir]));
}

// Item 3: plain http carries the vim25 Login or the oVirt SSO password in cleartext.
const CLEARTEXT_URLS: Record<SourceType, Record<string, string>> = {
  vsphere: { plain: 'http://127.0.0.1:1/sdk', 'upper-case': 'HTTP://127.0.0.1:1/sdk', 'port-443': 'http://127.0.0.1:443/sdk' },
  ovirt: { plain: 'http://127.0.0.1:1/ovirt-engine/api', 'upper-case': 'HTTP://127.0.0.1:1/ovirt-engine/api', 'user-info': 'http://admin@127.0.0.1:1/ovirt-engine/api' },
};

const cleartextSourcesFile: HostileCase[] = (Object.keys(CLEARTEXT_URLS) as SourceType[]).flatMap((type) =>
  Object.entries(CLEARTEXT_URLS[type]).map(([label, url]): HostileCase => ({
    id: `config.http-url.${type}.${label}`,
    item: '3',
    what: `a ${type} source whose url is ${url}`,
    setup: (ctx) => ({ args: ['inventory', '--sources', writeSources(ctx, sourceFields(ctx, type, { url })), '--source', 'src'] }),
    expect: { code: 'CONFIG_INVALID', exit: 2, stderr: /sources\.yaml:4:\d+: sources\[0\]\.url: http:\/\/ would send the password in cleartext/ },
  })),
);

const cleartext: HostileCase[] = [
  ...cleartextSourcesFile,
  {
    id: 'config.http-url.batch-inline-source',
    item: '3',
    what: 'a batch plan whose inline source is http://',
    setup: (ctx) => {
      const plan = join(ctx.inputs, 'plan.yaml');
      writeFileSync(plan, ['sources:', ...entryLines(sourceFields(ctx, 'ovirt', { url: 'http://127.0.0.1:1/ovirt-engine/api' }), '  '), 'vms:', '  - vm: web', ''].join('\n'));
      return batchRun(ctx, plan);
    },
    expect: { code: 'CONFIG_INVALID', exit: 2, stderr: /plan\.yaml:4:\d+: sources\[0\]\.url: http:\/\// },
  },
  {
    id: 'config.http-url.pod-job-file',
    item: '3',
    what: "the conversion pod's job file names an http:// source",
    setup: (ctx) => {
      const job = join(ctx.inputs, 'job.yaml');
      writeFileSync(job, 'source:\n  type: vsphere\n  url: http://127.0.0.1:1/sdk\nvm: web\n');
      const secretDir = join(ctx.inputs, 'secret');
      mkdirSync(secretDir);
      writeFileSync(join(secretDir, 'accessKeyId'), 'admin\n');
      writeFileSync(join(secretDir, 'secretKey'), `${ctx.secret}\n`);
      return {
        args: [
          'pod',
          '--job',
          job,
          '--secret-dir',
          secretDir,
          '--disks-dir',
          ctx.target,
          '--termination-log',
          join(ctx.target, 'termination-log'),
          '--metrics-port',
          '0',
          '--results-port',
          '0',
        ],
      };
    },
    expect: {
      code: 'CONFIG_INVALID',
      exit: 2,
      stderr: /CONFIG_INVALID: .*job\.yaml:3:\d+: source\.url: http:\/\//,
      check: (_r, ctx) => expect(readFileSync(join(ctx.target, 'termination-log'), 'utf8')).toMatch(/CONFIG_INVALID/),
    },
  },
  ...(['ovirt', 'vmware'] as const).map((kind): HostileCase => ({
    id: `config.http-url.provider-secret.${kind}`,
    item: '3',
    what: `check -f with a ${kind} provider Secret whose apiUrl is http://`,
    setup: (ctx) => {
      const file = join(ctx.inputs, 'objects.yaml');
      const url = kind === 'ovirt' ? 'http://127.0.0.1:1/ovirt-engine/api' : 'http://127.0.0.1:1/sdk';
      const vm = kind === 'ovirt' ? '      vm:\n        id: 80554327-0569-496b-bdeb-fcbbf52b827b\n' : '      vm:\n        name: web-01\n';
      writeFileSync(
        file,
        `apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\ntype: Opaque\nstringData:\n  ${kind}: |\n    apiUrl: ${url}\n    username: admin\n    password: ${ctx.secret}\n---\n` +
          `apiVersion: v2v.kubevirt.io/v1beta1\nkind: VirtualMachineImport\nmetadata:\n  name: imp\nspec:\n  providerCredentialsSecret:\n    name: creds\n  source:\n    ${kind}:\n${vm}`,
      );
      return { args: ['check', '-f', file] };
    },
    expect: { code: 'CONFIG_INVALID', exit: 2, stderr: /objects\.yaml:\d+:\d+: stringData\.\w+\.apiUrl: apiUrl: http:\/\// },
  })),
  {
    id: 'config.http-url.opted-in-warns',
    item: '3',
    what: 'an http:// source with allowInsecureHttp: true runs, and says the password travels in cleartext',
    setup: (ctx) => ({
      args: ['inventory', '--sources', writeSources(ctx, sourceFields(ctx, 'vsphere', { url: 'http://127.0.0.1:1/sdk', allowInsecureHttp: true })), '--source', 'src'],
    }),
    expect: { code: 'SOURCE_UNREACHABLE', exit: 1, stderr: /password travels in cleartext over http:\/\// },
  },
  ...(['vsphere', 'ovirt'] as const).map((type): HostileCase => ({
    id: `config.insecure-skip-verify-warns.${type}`,
    item: '3',
    what: `a ${type} source with insecureSkipVerify: true says so on the run`,
    setup: (ctx) => ({ args: ['inventory', '--sources', writeSources(ctx, sourceFields(ctx, type, { insecureSkipVerify: true })), '--source', 'src'] }),
    expect: { code: 'SOURCE_UNREACHABLE', exit: 1, stderr: /TLS verification is off \(insecureSkipVerify\)/ },
  })),
];

// Item 4: a VM's directory is <targetDir>/<targetName>: one path component, one VM.
const BAD_TARGET_NAMES: Record<string, string> = {
  'dot-dot': '..',
  dot: '.',
  slash: 'a/b',
  'parent-path': '../escaped',
  absolute: '/tmp/escaped',
  nul: 'a\0b',
  'too-long': 'x'.repeat(254),
};

const badTargetNames: HostileCase[] = Object.entries(BAD_TARGET_NAMES).map(([label, targetName]): HostileCase => ({
  id: `config.target-name.${label}`,
  item: '4',
  what: `a batch plan VM with targetName ${JSON.stringify(targetName).slice(0, 40)}`,
  setup: (ctx) => batchRun(ctx, writePlan(ctx, [{ vm: 'web', targetName }])),
  expect: { code: 'CONFIG_INVALID', exit: 2, stderr: /plan\.yaml:6:\d+: vms\[0\]\.targetName: / },
}));

/** Two plan entries that would share a directory or a VirtualMachine name; the second (vms[1]) is the one named. */
const SHARED_TARGETS: Record<string, { vms: Record<string, unknown>[]; twoSources?: boolean }> = {
  'same-target-name': {
    vms: [
      { vm: 'web-01', targetName: 'web' },
      { vm: 'web-02', targetName: 'web' },
    ],
  },
  'target-name-is-another-vm': { vms: [{ vm: 'web' }, { vm: 'web-02', targetName: 'web' }] },
  'names-alike-once-sanitised': { vms: [{ vm: 'web 1' }, { vm: 'web_1' }] },
  'one-kubernetes-name': {
    vms: [
      { vm: 'web-01', targetName: 'Web' },
      { vm: 'web-02', targetName: 'web' },
    ],
  },
  'same-vm-in-two-sources': {
    vms: [
      { vm: 'web', source: 'src' },
      { vm: 'web', source: 'other' },
    ],
    twoSources: true,
  },
};

const sharedTargets: HostileCase[] = Object.entries(SHARED_TARGETS).map(([label, { vms, twoSources }]): HostileCase => ({
  id: `config.target-name.shared.${label}`,
  item: '4',
  what: `two batch plan VMs write to one place: ${JSON.stringify(vms)}`,
  setup: (ctx) => {
    const sourcesFile = join(ctx.inputs, 'sources.yaml');
    const entries = [sourceFields(ctx, 'vsphere'), ...(twoSources ? [sourceFields(ctx, 'ovirt', { name: 'other' })] : [])];
    writeFileSync(sourcesFile, ['sources:', ...entries.flatMap((e) => entryLines(e, '  ')), ''].join('\n'));
    return batchRun(ctx, writePlan(ctx, vms, { sourcesFile }));
  },
  expect: {
    code: 'CONFIG_INVALID',
    exit: 2,
    check: (r, ctx) => {
      const plan = join(ctx.inputs, 'plan.yaml');
      const field = (i: number) => (vms[i]!['targetName'] !== undefined ? 'targetName' : 'vm');
      const line = (i: number) => planLine(vms, i, field(i));
      // Both places, each with its line.
      expect(r.stderr).toContain(`plan.yaml:${line(1)}:`);
      expect(r.stderr).toContain(`vms[1].${field(1)}`);
      expect(r.stderr).toContain(`vms[0].${field(0)} at ${plan}:${line(0)}`);
      expect(readdirSync(ctx.target)).toEqual([]);
    },
  },
}));

const targets: HostileCase[] = [
  ...badTargetNames,
  {
    id: 'config.target-name.vm-dot-dot',
    item: '4',
    what: 'a batch plan VM named ".." with no targetName',
    setup: (ctx) => batchRun(ctx, writePlan(ctx, [{ vm: '..' }])),
    expect: { code: 'CONFIG_INVALID', exit: 2, stderr: /plan\.yaml:5:\d+: vms\[0\]\.vm: "\.\." cannot name the VM's directory/ },
  },
  ...sharedTargets,
  {
    id: 'config.plan-output-dir.same-name',
    item: '4',
    what: 'plan --output-dir with two VMs of one name (in two clusters): the second would overwrite the first',
    setup: async (ctx) => {
      const inventory = defaultInventory();
      inventory.vms.push(buildVm({ name: 'vm-web' }, inventory), buildVm({ name: 'vm-web', cluster: 'Cluster2' }, inventory));
      const fake = await startOvirtFake({ inventory, password: ctx.secret });
      ctx.defer(() => fake.stop());
      writeFileSync(join(ctx.inputs, 'ca.pem'), fake.pki.caPem);
      const sources = writeSources(ctx, sourceFields(ctx, 'ovirt', { url: fake.url, username: fake.username, caFile: join(ctx.inputs, 'ca.pem') }));
      return { args: ['plan', '--sources', sources, '--source', 'src', '--vm', 'vm-web@Default', '--vm', 'vm-web@Cluster2', '--output-dir', join(ctx.target, 'out')] };
    },
    expect: {
      code: 'TARGET_NAME_CONFLICT',
      exit: 2,
      stderr: /vm-web \(id [^)]+\) and vm-web \(id [^)]+\) would both be written to .*vm-web\.yaml/,
      check: (_r, ctx) => expect(existsSync(join(ctx.target, 'out', 'vm-web.yaml'))).toBe(false),
    },
  },
];

// Item 8: a VM that failed is tried again on the next run, and keeps its error and its count.
let firstRunError: { code: string } | undefined;
const retry: HostileCase = {
  id: 'config.batch-retries-failed-vm',
  item: '8',
  what: 'a batch run again after a VM failed: the VM is tried again, its error and attempt count kept',
  setup: async (ctx) => {
    const vcsim = await startVcsim({ cluster: 1, host: 1, standaloneHost: 0, vm: 1, autostart: false });
    ctx.defer(() => vcsim.stop());
    const password = join(ctx.inputs, 'password');
    writeFileSync(password, `${vcsim.password}\n`);
    // VDDK over unverified TLS has no thumbprint it could trust: the copy fails, every time, after the checks pass.
    const sourcesFile = writeSources(ctx, { name: 'vc', type: 'vsphere', url: vcsim.url, username: vcsim.username, passwordFile: password, insecureSkipVerify: true });
    const run = batchRun(ctx, writePlan(ctx, [{ vm: 'DC0_C0_RP0_VM0', transport: 'vddk' }], { sourcesFile }), '-o', 'json', '--vddk-libdir', join(ctx.inputs, 'no-vddk'));
    const first = await runCli(run.args, { env: { TMPDIR: join(ctx.root, 'tmp') } });
    if (first.code !== 1) throw new Error(`the first run should fail the VM (exit 1), got ${first.code}: ${first.stderr.slice(-2000)}`);
    firstRunError = (JSON.parse(first.stdout) as { vms: { error?: { code: string } }[] }).vms[0]!.error;
    return run;
  },
  expect: {
    exit: 1,
    check: (r, ctx) => {
      expect(firstRunError?.code).toMatch(/^VDDK_/);
      const report = JSON.parse(r.stdout) as { vms: { phase: string; attempts: number; error?: { code: string } }[] };
      expect(report.vms[0]).toMatchObject({ phase: 'failed', attempts: 2, error: { code: firstRunError!.code } });
      const state = JSON.parse(readFileSync(join(ctx.target, 'state.json'), 'utf8')) as { vms: Record<string, { attempts: number; error?: { code: string } }> };
      expect(state.vms['vc/DC0_C0_RP0_VM0']).toMatchObject({ attempts: 2, error: { code: firstRunError!.code } });
    },
  },
};

// Item 9: state files and targets that cannot be used are named, exit 2.
const CORRUPT_STATES: Record<string, string> = {
  truncated: '{"version": 1, "planHash": "',
  empty: '',
  null: 'null',
  array: '[]',
  'wrong-shape': '{"version": 1, "planHash": "x", "vms": 5}',
  'bad-phase': '{"version": 1, "planHash": "x", "vms": {"src/web": {"phase": "exploded", "disksDone": [], "bytesCopied": 0, "concerns": []}}}',
  binary: '\u0000\u00ff\u00fe garbage',
};

const states: HostileCase[] = [
  ...Object.entries(CORRUPT_STATES).map(([label, text]): HostileCase => ({
    id: `config.state.corrupt.${label}`,
    item: '9',
    what: `a batch state file that is ${label}`,
    setup: (ctx) => {
      writeFileSync(join(ctx.target, 'state.json'), text);
      return batchRun(ctx, writePlan(ctx, [{ vm: 'web' }], { targetDir: join(ctx.target, 'out') }));
    },
    expect: {
      code: 'STATE_INVALID',
      exit: 2,
      stderr: /the state file \S+state\.json is not a v2v batch state[^\n]*\n\s+hint: /,
      // The user's file is left as it was.
      check: (_r, ctx) => expect(readFileSync(join(ctx.target, 'state.json'), 'utf8')).toBe(text),
    },
  })),
  {
    id: 'config.state.is-a-directory',
    item: '9',
    what: '--state names a directory',
    setup: (ctx) => {
      mkdirSync(join(ctx.target, 'state-dir'));
      return { args: ['batch', writePlan(ctx, [{ vm: 'web' }], { targetDir: join(ctx.target, 'out') }), '--state', join(ctx.target, 'state-dir')] };
    },
    expect: { code: 'STATE_PATH_INVALID', exit: 2, stderr: /state-dir is a directory/ },
  },
  {
    id: 'config.state.missing-directory',
    item: '9',
    what: '--state sits in a directory that does not exist',
    setup: (ctx) => ({ args: ['batch', writePlan(ctx, [{ vm: 'web' }], { targetDir: join(ctx.target, 'out') }), '--state', join(ctx.target, 'nowhere', 'state.json')] }),
    expect: { code: 'STATE_PATH_INVALID', exit: 2, stderr: /is in a directory that does not exist/ },
  },
  {
    id: 'config.state.read-only',
    item: '9',
    what: '--state on a read-only file system',
    setup: (ctx) => {
      const ro = join(ctx.inputs, 'ro');
      readOnlyMount(ctx, ro);
      return { args: ['batch', writePlan(ctx, [{ vm: 'web' }], { targetDir: join(ctx.target, 'out') }), '--state', join(ro, 'state.json')] };
    },
    expect: { code: 'STATE_PATH_INVALID', exit: 2, stderr: /is on a read-only file system/ },
  },
];

/** convert with an unreachable source: a target it cannot use must be refused before the source is tried. */
function convertInto(ctx: HostileContext, target: string): { args: string[] } {
  return { args: ['convert', '--sources', writeSources(ctx, sourceFields(ctx, 'vsphere')), '--source', 'src', '--vm', 'web', '--target', target] };
}

const unusableTargets: HostileCase[] = [
  {
    id: 'config.target.read-only.convert',
    item: '9',
    what: 'convert --target on a read-only file system',
    setup: (ctx) => {
      const ro = join(ctx.inputs, 'ro');
      readOnlyMount(ctx, ro);
      return convertInto(ctx, join(ro, 'web'));
    },
    expect: { code: 'TARGET_NOT_WRITABLE', exit: 2, stderr: /--target \S+: \S+ro is on a read-only file system\n\s+hint: / },
  },
  {
    id: 'config.target.read-only.batch',
    item: '9',
    what: 'a batch plan whose targetDir is on a read-only file system',
    setup: (ctx) => {
      const ro = join(ctx.inputs, 'ro');
      readOnlyMount(ctx, ro);
      return batchRun(ctx, writePlan(ctx, [{ vm: 'web' }], { targetDir: join(ro, 'out') }));
    },
    expect: { code: 'TARGET_NOT_WRITABLE', exit: 2, stderr: /the target of src\/web .* is on a read-only file system/ },
  },
  {
    id: 'config.target.read-only.plan-output-dir',
    item: '9',
    what: 'plan --output-dir on a read-only file system',
    setup: (ctx) => {
      const ro = join(ctx.inputs, 'ro');
      readOnlyMount(ctx, ro);
      return { args: ['plan', '--sources', writeSources(ctx, sourceFields(ctx, 'ovirt')), '--source', 'src', '--all', '--output-dir', join(ro, 'plans')] };
    },
    expect: { code: 'TARGET_NOT_WRITABLE', exit: 2 },
  },
  {
    id: 'config.target.file.convert',
    item: '9',
    what: 'convert --target that is a file',
    setup: (ctx) => {
      writeFileSync(join(ctx.target, 'a-file'), 'not a directory\n');
      return convertInto(ctx, join(ctx.target, 'a-file'));
    },
    expect: { code: 'TARGET_INVALID', exit: 2, stderr: /--target \S+a-file is a file, not a directory/ },
  },
  {
    id: 'config.target.under-a-file.convert',
    item: '9',
    what: 'convert --target beneath a file',
    setup: (ctx) => {
      writeFileSync(join(ctx.target, 'a-file'), 'not a directory\n');
      return convertInto(ctx, join(ctx.target, 'a-file', 'web'));
    },
    expect: { code: 'TARGET_INVALID', exit: 2 },
  },
  {
    id: 'config.target.missing-volume.convert',
    item: '9',
    what: 'convert --target through a link to a volume that is not mounted',
    setup: (ctx) => {
      symlinkSync('/nonexistent-v2v-volume/web', join(ctx.target, 'volume'));
      return convertInto(ctx, join(ctx.target, 'volume'));
    },
    expect: { code: 'TARGET_INVALID', exit: 2, stderr: /is a link to something that does not exist/ },
  },
  {
    id: 'config.target.file.batch',
    item: '9',
    what: 'a batch VM whose directory under targetDir is a file',
    setup: (ctx) => {
      writeFileSync(join(ctx.target, 'web'), 'not a directory\n');
      return batchRun(ctx, writePlan(ctx, [{ vm: 'web' }]));
    },
    expect: { code: 'TARGET_INVALID', exit: 2 },
  },
];

// Item 11: a ResourceMapping that maps one source twice, to different targets.
const MAPPING_HEAD = 'apiVersion: v2v.kubevirt.io/v1alpha1\nkind: ResourceMapping\nmetadata:\n  name: m\nspec:\n  vmware:\n';
const CONFLICTING_MAPPINGS: Record<string, { list: string; entries: string[] }> = {
  'network-by-name': {
    list: 'networkMappings',
    entries: ['{ source: { name: "VM Network" }, target: { name: pod }, type: pod }', '{ source: { name: "VM Network" }, target: { name: br1 }, type: multus }'],
  },
  'network-by-id': {
    list: 'networkMappings',
    entries: ['{ source: { id: network-7 }, target: { name: br0 }, type: multus }', '{ source: { id: network-7 }, target: { name: br1 }, type: multus }'],
  },
  storage: {
    list: 'storageMappings',
    entries: ['{ source: { name: LocalDS_0 }, target: { name: standard } }', '{ source: { name: LocalDS_0 }, target: { name: fast } }'],
  },
  'storage-access-mode': {
    list: 'storageMappings',
    entries: [
      '{ source: { name: LocalDS_0 }, target: { name: standard }, accessMode: ReadWriteOnce }',
      '{ source: { name: LocalDS_0 }, target: { name: standard }, accessMode: ReadWriteMany }',
    ],
  },
  disk: {
    list: 'diskMappings',
    entries: ['{ source: { id: disk-1 }, target: { name: standard } }', '{ source: { id: disk-1 }, target: { name: fast } }'],
  },
};

function writeMapping(ctx: HostileContext, list: string, entries: string[]): string {
  const file = join(ctx.inputs, 'mapping.yaml');
  writeFileSync(file, `${MAPPING_HEAD}    ${list}:\n${entries.map((e) => `      - ${e}\n`).join('')}`);
  return file;
}

const mappings: HostileCase[] = [
  ...Object.entries(CONFLICTING_MAPPINGS).map(([label, { list, entries }]): HostileCase => ({
    id: `config.mapping.conflict.${label}`,
    item: '11',
    what: `a ResourceMapping with two different ${list} entries for one source`,
    setup: (ctx) => ({ args: ['check', '--sources', writeSources(ctx, sourceFields(ctx, 'vsphere')), '--source', 'src', '--all', '--mapping', writeMapping(ctx, list, entries)] }),
    expect: {
      code: 'CONFIG_INVALID',
      exit: 2,
      // The second entry (line 9) is named, and the first (line 8) beside it.
      stderr: new RegExp(
        `mapping\\.yaml:9:\\d+: spec\\.vmware\\.${list}\\[1\\]\\.source: .* mapped twice, to different targets.*\\(spec\\.vmware\\.${list}\\[0\\]\\.source at \\S+mapping\\.yaml:8\\)`,
      ),
    },
  })),
  {
    id: 'config.mapping.same-entry-twice-is-harmless',
    item: '11',
    what: 'a ResourceMapping that repeats one entry word for word (in another key order) is accepted',
    setup: (ctx) => ({
      args: [
        'check',
        '--sources',
        writeSources(ctx, sourceFields(ctx, 'vsphere')),
        '--source',
        'src',
        '--all',
        '--mapping',
        writeMapping(ctx, 'storageMappings', ['{ source: { name: LocalDS_0 }, target: { name: standard } }', '{ target: { name: standard }, source: { name: LocalDS_0 } }']),
      ],
    }),
    // Past the mapping, the run meets the unreachable source.
    expect: { code: 'SOURCE_UNREACHABLE', exit: 1 },
  },
];

export const configCases: HostileCase[] = [...cleartext, ...targets, retry, ...states, ...unusableTargets, ...mappings];
