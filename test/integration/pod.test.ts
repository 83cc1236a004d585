import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podPathsUnder } from '../../src/worker/pod.js';
import { guestImages } from '../guest/guest.js';
import { fakeVddkDir } from '../helpers/fake-vddk.js';
import { GUEST_VM_MAPPING, fakeVddkEnvFor, installGuest } from '../helpers/guest-vm.js';
import { validateObject } from '../helpers/openapi.js';
import { REPO } from '../helpers/peers.js';
import { startVcsim, type Vcsim } from '../helpers/vcsim.js';

const LIBGUESTFS = { LIBGUESTFS_BACKEND: 'direct', LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' };

interface Pod {
  child: ChildProcess;
  ports: Promise<{ metrics: number; results: number }>;
  exit: Promise<number | null>;
  stderr: () => string;
}

/** `v2v pod` with every path under `root` (as a container would mount them) and free ports. */
function startPod(root: string, env: NodeJS.ProcessEnv, extra: string[] = []): Pod {
  const p = podPathsUnder(root);
  const child = spawn(
    process.execPath,
    [
      `${REPO}bin/v2v.js`,
      'pod',
      '--job',
      p.job,
      '--secret-dir',
      p.secretDir,
      '--disks-dir',
      p.disksDir,
      '--block-prefix',
      p.blockPrefix,
      '--termination-log',
      p.terminationLog,
      '--metrics-port',
      '0',
      '--results-port',
      '0',
      ...extra,
    ],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  const ports = new Promise<{ metrics: number; results: number }>((resolve, reject) => {
    createInterface({ input: child.stderr! }).on('line', (line) => {
      stderr += `${line}\n`;
      if (line.includes('serving metrics and results')) {
        const ev = JSON.parse(line) as { metricsPort: number; resultsPort: number };
        resolve({ metrics: ev.metricsPort, results: ev.resultsPort });
      }
    });
    child.on('exit', () => reject(new Error(`pod exited before serving: ${stderr}`)));
  });
  ports.catch(() => undefined);
  return { child, ports, exit: new Promise((r) => child.on('exit', (code) => r(code))), stderr: () => stderr };
}

async function get(port: number, path: string): Promise<{ status: number; text: string }> {
  const res = await request(`http://127.0.0.1:${port}${path}`);
  return { status: res.statusCode, text: await res.body.text() };
}

function diskProgress(metrics: string): number {
  const m = /^v2v_disk_progress_ratio\{disk="0"\} ([\d.e-]+)$/m.exec(metrics);
  return m ? Number(m[1]) : 0;
}

describe('v2v pod: the conversion pod against vcsim + fake VDDK + the Debian guest', () => {
  let vcsim: Vcsim;
  let env: NodeJS.ProcessEnv;
  let work: string;

  async function podRoot(name: string): Promise<string> {
    const root = join(work, name);
    const p = podPathsUnder(root);
    await mkdir(p.secretDir, { recursive: true });
    await mkdir(join(p.disksDir, 'disk0'), { recursive: true });
    await mkdir(join(root, 'dev'), { recursive: true });
    await mkdir(join(root, 'etc/v2v'), { recursive: true });
    await writeFile(join(p.secretDir, 'accessKeyId'), vcsim.username);
    await writeFile(join(p.secretDir, 'secretKey'), vcsim.password);
    await writeFile(join(p.secretDir, 'thumbprint'), String(env['V2V_TEST_THUMBPRINT']));
    await writeFile(join(root, 'etc/v2v/mapping.yaml'), GUEST_VM_MAPPING);
    await writeFile(
      p.job,
      `source:\n  type: vsphere\n  url: ${vcsim.url}\n  insecureSkipVerify: true\nvm: DC0_C0_RP0_VM0\nmapping: ${join(root, 'etc/v2v/mapping.yaml')}\ntargetNamespace: migrated\ndisks:\n  - volumeMode: Filesystem\nvddkLibDir: ${fakeVddkDir()}\n`,
    );
    return root;
  }

  beforeAll(async () => {
    const { debian } = guestImages();
    work = await mkdtemp(join(tmpdir(), 'v2v-pod-'));
    vcsim = await startVcsim({ cluster: 1, host: 1, standaloneHost: 0, vm: 1, autostart: false });
    const client = await vcsim.client();
    try {
      await installGuest(vcsim, client, 'DC0_C0_RP0_VM0', debian);
    } finally {
      await client.logout();
    }
    const fake = await fakeVddkEnvFor(vcsim);
    env = { ...fake.env, ...LIBGUESTFS, V2V_TEST_THUMBPRINT: fake.thumbprint };
  }, 600_000);
  afterAll(async () => vcsim?.stop());

  it('SIGTERM during the copy: exit 4 within 10 s, nothing claims success', async () => {
    const root = await podRoot('interrupted');
    const pod = startPod(root, { ...env, FAKE_VDDK_FAULTS: 'slow-read-ms=1000' });
    const { metrics } = await pod.ports;
    for (let i = 0; i < 600 && diskProgress((await get(metrics, '/metrics')).text) === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(diskProgress((await get(metrics, '/metrics')).text)).toBeGreaterThan(0);
    const sent = Date.now();
    pod.child.kill('SIGTERM');
    const code = await pod.exit;
    expect(Date.now() - sent).toBeLessThan(10_000);
    expect(code, pod.stderr().slice(-2000)).toBe(4);
    const p = podPathsUnder(root);
    expect(readFileSync(p.terminationLog, 'utf8')).toMatch(/^interrupted DC0_C0_RP0_VM0: INTERRUPTED/);
    expect(existsSync(join(p.disksDir, 'disk0', 'disk.img.v2v-partial'))).toBe(true);
    expect(existsSync(join(p.disksDir, '.v2v-complete.json'))).toBe(false);
  }, 120_000);

  it('progress rises on :2112 during the copy; :8080/vm serves the VirtualMachine; the termination log has the summary', async () => {
    const root = await podRoot('complete');
    const pod = startPod(root, { ...env, FAKE_VDDK_FAULTS: 'slow-read-ms=150' }, ['--linger', '600']);
    const { metrics, results } = await pod.ports;
    expect((await get(results, '/healthz')).status).toBe(200);
    const seen: number[] = [];
    for (let i = 0; i < 3000; i++) {
      const text = (await get(metrics, '/metrics')).text;
      seen.push(diskProgress(text));
      if (/v2v_phase\{phase="ConvertingGuest"\} 1/.test(text) || seen.at(-1) === 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const rising = seen.filter((v) => v > 0 && v < 1);
    expect(rising.length, `progress samples: ${seen.slice(0, 50).join(',')}`).toBeGreaterThan(1);
    expect(new Set(rising).size).toBeGreaterThan(1);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]!);

    let vm = await get(results, '/vm');
    for (let i = 0; vm.status === 404 && i < 1200; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      vm = await get(results, '/vm');
      if (pod.child.exitCode !== null) break;
    }
    expect(vm.status, pod.stderr().slice(-3000)).toBe(200);
    const body = JSON.parse(vm.text) as { kind: string; metadata: { namespace: string } };
    expect(body.kind).toBe('VirtualMachine');
    expect(body.metadata.namespace).toBe('migrated');
    expect(validateObject(body)).toEqual([]);
    const status = JSON.parse((await get(results, '/status')).text) as { phase: string; progress: number; conditions: { type: string; status: string; reason: string }[] };
    expect(status).toMatchObject({ phase: 'Succeeded', progress: 100 });
    expect(status.conditions.find((c) => c.type === 'Succeeded')).toMatchObject({ status: 'True', reason: 'VirtualMachineReady' });
    expect(status.conditions.find((c) => c.type === 'Valid')).toMatchObject({ status: 'True' });
    expect(status).toMatchObject({ targetVmName: 'dc0-c0-rp0-vm0', dataVolumes: [{ name: 'dc0-c0-rp0-vm0-disk0' }] });
    expect(readFileSync(podPathsUnder(root).terminationLog, 'utf8')).toMatch(/^succeeded DC0_C0_RP0_VM0: 1 disk\(s\)/);
    pod.child.kill('SIGTERM');
    expect(await pod.exit).toBe(0);
  }, 1_500_000);

  // vm-import-operator's Valid reasons, each for the bad input that earns it; the pod lingers so a controller can read them.
  it.each<[string, (root: string) => Promise<void>, string, string]>([
    ['a missing secret key', async (root) => rm(join(podPathsUnder(root).secretDir, 'secretKey')), 'SecretNotFound', 'SECRET_UNREADABLE'],
    [
      'a mapping that is not there',
      async (root) => editJob(root, (job) => job.replace(/^mapping: .*$/m, `mapping: ${join(root, 'etc/v2v/no-such-mapping.yaml')}`)),
      'ResourceMappingNotFound',
      'MAPPING_NOT_FOUND',
    ],
    [
      'a provider nothing answers for',
      async (root) => editJob(root, (job) => job.replace(/^ {2}url: .*$/m, '  url: https://127.0.0.1:1/sdk')),
      'UnreachableProvider',
      'SOURCE_UNREACHABLE',
    ],
    ['a VM the source does not have', async (root) => editJob(root, (job) => job.replace(/^vm: .*$/m, 'vm: no-such-vm')), 'SourceVMNotFound', 'VM_NOT_FOUND'],
    ['a target name that is not an RFC 1123 label', async (root) => editJob(root, (job) => `${job}targetName: Web_01\n`), 'InvalidTargetVMName', 'TARGET_NAME_INVALID'],
  ])(
    '%s: /status says Valid False with its reason, Succeeded False ValidationFailed',
    async (what, spoil, reason, code) => {
      const root = await podRoot(`invalid-${reason}`);
      await spoil(root);
      const pod = startPod(root, env, ['--linger', '120']);
      const { results } = await pod.ports;
      let status = { phase: '', conditions: [] as { type: string; status: string; reason: string }[], error: { code: '' } };
      for (let i = 0; i < 600 && status.phase !== 'Failed'; i++) {
        status = JSON.parse((await get(results, '/status')).text) as typeof status;
        if (status.phase !== 'Failed') await new Promise((r) => setTimeout(r, 100));
      }
      expect(status.phase, `${what}\n${pod.stderr().slice(-2000)}`).toBe('Failed');
      expect(status.error.code).toBe(code);
      expect(status.conditions.find((c) => c.type === 'Valid')).toMatchObject({ status: 'False', reason });
      expect(status.conditions.find((c) => c.type === 'Succeeded')).toMatchObject({ status: 'False', reason: 'ValidationFailed' });
      expect(existsSync(join(podPathsUnder(root).disksDir, '.v2v-complete.json'))).toBe(false);
      pod.child.kill('SIGTERM');
      expect(await pod.exit).not.toBe(0);
    },
    120_000,
  );
});

async function editJob(root: string, edit: (job: string) => string): Promise<void> {
  const { job } = podPathsUnder(root);
  await writeFile(job, edit(await readFile(job, 'utf8')));
}
