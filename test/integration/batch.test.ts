import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job } from 'kubernetes-models/batch/v1';
import { ConfigMap, PersistentVolumeClaim } from 'kubernetes-models/v1';
import { parse, parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchReport } from '../../src/batch/runner.js';
import { runCli } from '../helpers/cli.js';
import { fakeVddkDir } from '../helpers/fake-vddk.js';
import { GUEST_VM_MAPPING, fakeVddkEnvFor, installGuest } from '../helpers/guest-vm.js';
import { validateObject } from '../helpers/openapi.js';
import { REPO } from '../helpers/peers.js';
import { startVcsim, type Vcsim } from '../helpers/vcsim.js';
import { addSataDisk, findVm, powerOn } from '../helpers/vsphere-ops.js';

const MiB = 1024 * 1024;
const DATA_PER_DISK = 3 * MiB;

/** A 32 MiB disk with three 1 MiB extents of random data, the rest holes. */
function smallDisk(path: string): string {
  const fd = openSync(path, 'w');
  for (const at of [0, 11, 27]) writeSync(fd, randomBytes(MiB), 0, MiB, at * MiB);
  closeSync(fd);
  const fd2 = openSync(path, 'r+');
  writeSync(fd2, Buffer.alloc(1), 0, 1, 32 * MiB - 1);
  closeSync(fd2);
  return path;
}

describe('v2v batch: six vcsim VMs, two blocked, killed with -9 and resumed', () => {
  let vcsim: Vcsim;
  let work: string;
  let plan: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'v2v-batch-'));
    vcsim = await startVcsim({ cluster: 1, host: 1, standaloneHost: 0, vm: 6, autostart: false });
    const client = await vcsim.client();
    try {
      for (let i = 0; i < 6; i++) await installGuest(vcsim, client, `DC0_C0_RP0_VM${i}`, smallDisk(join(work, `src${i}.img`)));
      await powerOn(client, await findVm(client, 'DC0_C0_RP0_VM4'));
      await addSataDisk(client, await findVm(client, 'DC0_C0_RP0_VM5'));
    } finally {
      await client.logout();
    }
    const fake = await fakeVddkEnvFor(vcsim);
    // Slow reads make each copy take a few seconds, so the kill lands mid-batch.
    env = { ...fake.env, FAKE_VDDK_FAULTS: 'slow-read-ms=400', V2V_LOG_LEVEL: 'warn' };
    const sources = await vcsim.sourcesFile({ insecureSkipVerify: true, thumbprint: fake.thumbprint });
    await writeFile(join(work, 'mapping.yaml'), GUEST_VM_MAPPING);
    // The user's OS map, in the seed's ConfigMap format: the guests' debian10_64Guest gets a template of their own.
    await writeFile(
      join(work, 'os-map.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: os-configmap\ndata:\n  osinfo2common: |\n    "debian10_64Guest": "debian10-house"\n',
    );
    plan = join(work, 'plan.yaml');
    await writeFile(
      plan,
      [
        'apiVersion: v2v.kubevirt.io/v1alpha1',
        'kind: BatchPlan',
        `sourcesFile: ${JSON.stringify(sources)}`,
        'defaults:',
        '  source: vc',
        '  mapping: mapping.yaml',
        '  osMap: os-map.yaml',
        '  targetDir: out',
        '  concurrency: 2',
        '  guestConversion: false',
        // The import wizard's choices, for every VM.
        '  customize: { description: moved by v2v, workload: desktop, disks: [{ index: 0, size: 64Mi }] }',
        'vms:',
        ...[0, 1, 2, 3, 4, 5].map((i) => `  - vm: DC0_C0_RP0_VM${i}`),
        '',
      ].join('\n'),
    );
  }, 300_000);
  afterAll(async () => vcsim?.stop());

  it('converts 4, reports 2 blocked with their concern ids (exit 3); a run killed after two VMs resumes without redoing them', async () => {
    const state = join(work, 'state.json');
    const args = [`${REPO}bin/v2v.js`, 'batch', plan, '--state', state, '--vddk-libdir', fakeVddkDir(), '-o', 'json'];
    const trace1 = join(work, 'trace-1.log');
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env, FAKE_VDDK_TRACE: trace1 }, stdio: 'ignore' });
    const succeeded = () => {
      if (!existsSync(state)) return 0;
      try {
        return Object.values((JSON.parse(readFileSync(state, 'utf8')) as { vms: Record<string, { phase: string }> }).vms).filter((v) => v.phase === 'succeeded').length;
      } catch {
        return 0;
      }
    };
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    for (let waited = 0; succeeded() < 2 && child.exitCode === null && waited < 240_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
    expect(child.exitCode, 'the first run must still be going when two VMs are done').toBeNull();
    child.kill('SIGKILL');
    await exited;
    const doneBeforeKill = Object.entries((JSON.parse(readFileSync(state, 'utf8')) as { vms: Record<string, { phase: string }> }).vms)
      .filter(([, v]) => v.phase === 'succeeded')
      .map(([k]) => k);
    expect(doneBeforeKill.length).toBeGreaterThanOrEqual(2);
    expect(doneBeforeKill.length).toBeLessThan(4);

    const trace2 = join(work, 'trace-2.log');
    const res = await runCli(args.slice(1), { env: { ...env, FAKE_VDDK_TRACE: trace2 }, timeoutMs: 300_000 });
    expect(res.code, res.stderr).toBe(3);
    const report = JSON.parse(res.stdout) as BatchReport;
    expect(report.totals).toMatchObject({ succeeded: 4, blocked: 2, failed: 0 });
    const blocked = Object.fromEntries(report.vms.filter((v) => v.phase === 'blocked').map((v) => [v.key, v.concerns.filter((c) => c.category === 'Critical').map((c) => c.id)]));
    expect(blocked).toEqual({ 'vc/DC0_C0_RP0_VM4': ['vmware.power_state.on'], 'vc/DC0_C0_RP0_VM5': ['vmware.disk.controller.sata'] });

    // Work done once: the second run never opened the disks of VMs finished before the kill.
    const opened2 = readFileSync(trace2, 'utf8');
    for (const key of doneBeforeKill) expect(opened2, key).not.toContain(`${key.split('/')[1]}/disk1.vmdk`);
    // And no disk's data was counted twice: at most the data of four disks.
    expect(report.totals.bytesCopied).toBeLessThanOrEqual(4 * DATA_PER_DISK);
    for (const v of report.vms.filter((r) => r.phase === 'succeeded')) {
      const dir = join(work, 'out', v.key.split('/')[1]!);
      expect(existsSync(join(dir, 'disk0', 'disk.img'))).toBe(true);
      expect(v.progress).toBe(100);
      // The batch honours the user's OS map, as convert does.
      expect(readFileSync(join(dir, 'manifests', 'virtualmachine.yaml'), 'utf8')).toContain('os.template.kubevirt.io/debian10-house');
    }
  }, 600_000);

  it('--emit jobs checks first: a bundle (ConfigMap, PVCs, Job, VirtualMachine) per valid VM, none for the blocked ones (exit 3)', async () => {
    const out = join(work, 'jobs');
    const res = await runCli(['batch', plan, '--emit', 'jobs', '--output-dir', out, '--vddk-image', 'registry.example.com/vddk:8.0.3', '--namespace', 'migrated'], { env });
    expect(res.code, res.stderr).toBe(3);
    expect(res.stderr).toContain('blocked vc/DC0_C0_RP0_VM4: vmware.power_state.on');
    expect(res.stderr).toContain('blocked vc/DC0_C0_RP0_VM5: vmware.disk.controller.sata');
    const files = res.stdout.trim().split('\n');
    expect(files.map((f) => f.split('/').pop())).toEqual([0, 1, 2, 3].map((i) => `dc0-c0-rp0-vm${i}.yaml`));
    for (const file of files) {
      const docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as Record<string, unknown> & { kind: string; metadata: { name: string; namespace: string } });
      expect(docs.map((d) => d.kind)).toEqual(['ConfigMap', 'PersistentVolumeClaim', 'Job', 'VirtualMachine']);
      for (const d of docs) expect(d.metadata.namespace).toBe('migrated');
      const [configMap, pvc, job, vm] = docs as [unknown, { metadata: { name: string }; spec: { resources: { requests: { storage: string } } } }, unknown, unknown];
      new ConfigMap(configMap as never).validate();
      new PersistentVolumeClaim(pvc as never).validate();
      new Job(job as never).validate();
      expect(validateObject(vm)).toEqual([]);
      // The user's size for the 32 MiB disk (grown), where the mapping alone would ask capacity / (1 - 5.5 %) = 34Mi.
      expect(pvc.spec.resources.requests.storage).toBe('64Mi');
      const vmMeta = (vm as { metadata: { annotations: Record<string, string>; labels: Record<string, string> } }).metadata;
      expect(vmMeta.annotations['description']).toBe('moved by v2v');
      expect(vmMeta.labels['workload.template.kubevirt.io/desktop']).toBe('true');
      // The Job converts with the same choices.
      expect(parse((configMap as { data: Record<string, string> }).data['job.yaml']!)).toMatchObject({ customize: { description: 'moved by v2v', workload: 'desktop' } });
      // The VM boots the PVC the Job fills, and is tied to that Job.
      const podVolumes = (job as { metadata: { name: string }; spec: { template: { spec: { volumes: { persistentVolumeClaim?: { claimName: string } }[] } } } }).spec.template.spec
        .volumes;
      const filled = podVolumes.flatMap((v) => (v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : []));
      const vmSpec = vm as {
        metadata: { labels: Record<string, string> };
        spec: { runStrategy: string; template: { spec: { volumes: { persistentVolumeClaim: { claimName: string } }[] } } };
      };
      expect(vmSpec.spec.template.spec.volumes.map((v) => v.persistentVolumeClaim.claimName)).toEqual(filled);
      expect(filled).toEqual([pvc.metadata.name]);
      expect(vmSpec.metadata.labels['v2v.kubevirt.io/job']).toBe((job as { metadata: { name: string } }).metadata.name);
      expect(vmSpec.spec.runStrategy).toBe('Halted');
    }
  });
});
