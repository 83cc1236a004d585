import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job, type IJob } from 'kubernetes-models/batch/v1';
import { Pod, type IContainer, type IPod, type IVolume } from 'kubernetes-models/v1';
import { request } from 'undici';
import { parseAllDocuments, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guestImages } from '../guest/guest.js';
import { makePki, type TestPki } from '../helpers/certs.js';
import { runCli } from '../helpers/cli.js';
import { GUEST_VM_MAPPING, fakeVddkEnvFor, installGuest } from '../helpers/guest-vm.js';
import { validateObject } from '../helpers/openapi.js';
import { containerLogs, podman, projectImages, type ProjectImages } from '../helpers/podman.js';
import { startVcsim, type Vcsim } from '../helpers/vcsim.js';

const MINUTES = 60_000;
/** The pod's user and group (the Job's securityContext), CDI's qemu user. */
const POD_USER = 107;
const VM_NAME = 'debian-podman';

interface K8sDoc {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
}

interface VirtualMachineDoc extends K8sDoc {
  spec: { template: { spec: { volumes: { name: string; persistentVolumeClaim?: { claimName: string } }[] } } };
}

interface PodStatus {
  phase: string;
  progress: number;
  conditions: { type: string; status: string; reason?: string }[];
}

/** What stands in, on this host, for what a kubelet would provide the pod. */
interface StandIns {
  /** A directory holding the Secret's keys. */
  secretDir: string;
  /** A directory per emptyDir volume, with the permissions a kubelet gives it. */
  emptyDirs: Map<string, string>;
  /** The file a kubelet mounts at the container's terminationMessagePath. */
  terminationLog: string;
  /** Read by the fake libvixDiskLib in the conversion container (its datastores, the thumbprint it presents). */
  fakeVddkEnv: Record<string, string>;
  /** Host directories the fake libvixDiskLib reads (vcsim's datastores), mounted read-only where they are. */
  datastoreDirs: string[];
}

/**
 * The Job's pod template as a Pod that `podman kube play` (4.3) runs, changed
 * only where podman or this host differ from a cluster:
 * - hostNetwork, so the pod reaches vcsim on the host's loopback; its containers serve on the
 *   host's ports, so their port list goes (podman 4.3 refuses port mappings on the host network);
 * - the Secret as a hostPath directory: podman 4.3 panics on `secret` volumes;
 * - each emptyDir as a hostPath directory with Kubernetes' permissions (world-writable):
 *   podman 4.3 makes it root's, and the init container runs as the pod's user;
 * - the termination log as a hostPath file, as the kubelet mounts one;
 * - force_tcg (the host's /dev/kvm is unusable) and the fake VDDK's knobs in the environment;
 * - `--linger`, as a controller that collects /vm would ask; SIGTERM then ends it with exit 0.
 * PVCs stay as they are: kube play binds each claim to the podman volume of its name.
 */
function playablePod(job: IJob, s: StandIns): IPod {
  const template = job.spec!.template;
  const spec = template.spec!;
  const volumes: IVolume[] = spec.volumes!.map((v): IVolume => {
    if (v.secret) return { name: v.name, hostPath: { path: s.secretDir, type: 'Directory' } };
    if (v.emptyDir) return { name: v.name, hostPath: { path: s.emptyDirs.get(v.name)!, type: 'Directory' } };
    return v;
  });
  volumes.push({ name: 'termination-log', hostPath: { path: s.terminationLog, type: 'File' } });
  s.datastoreDirs.forEach((dir, i) => volumes.push({ name: `datastore${i}`, hostPath: { path: dir, type: 'Directory' } }));
  const conversion = ({ ports: _servedOnTheHost, ...c }: IContainer): IContainer => ({
    ...c,
    args: [...(c.args ?? []), '--linger', '600'],
    env: [...(c.env ?? []), { name: 'LIBGUESTFS_BACKEND_SETTINGS', value: 'force_tcg' }, ...Object.entries(s.fakeVddkEnv).map(([name, value]) => ({ name, value }))],
    volumeMounts: [
      ...(c.volumeMounts ?? []),
      { name: 'termination-log', mountPath: c.terminationMessagePath ?? '/dev/termination-log' },
      ...s.datastoreDirs.map((dir, i) => ({ name: `datastore${i}`, mountPath: dir, readOnly: true })),
    ],
  });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: job.metadata!.name!, labels: template.metadata?.labels ?? {} },
    spec: { ...spec, hostNetwork: true, containers: spec.containers.map((c) => (c.name === 'v2v' ? conversion(c) : c)), volumes },
  };
}

async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', () => reject(new Error(`port ${port} is taken on this host: the pod (hostNetwork) serves there`)));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

async function get(port: number, path: string): Promise<{ status: number; text: string }> {
  const res = await request(`http://127.0.0.1:${port}${path}`, { headersTimeout: 10_000, bodyTimeout: 10_000 });
  return { status: res.statusCode, text: await res.body.text() };
}

async function containerState(name: string): Promise<{ status: string; exitCode: number }> {
  const [status, exitCode] = (await podman(['container', 'inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', name])).trim().split(' ');
  return { status: status!, exitCode: Number(exitCode) };
}

// The product's first use, end to end in a real container runtime: the Job
// that `batch --emit jobs` writes, its pod template played by podman with the
// image built from ./Dockerfile and the VDDK init image from vddk/Dockerfile
// (around the fake libvixDiskLib), converting the Debian test guest from vcsim
// with real virt-v2v inside the container, into the volume the emitted
// VirtualMachine boots.
describe('the emitted conversion pod, played in podman', () => {
  let images: ProjectImages;
  let vcsim: Vcsim;
  let pki: TestPki;
  let work: string;
  let plan: string;
  let fakeVddk: { env: NodeJS.ProcessEnv; thumbprint: string };
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    images = await projectImages();
    const { debian } = guestImages();
    work = await mkdtemp(join(tmpdir(), 'v2v-podman-'));
    // A CA the pod trusts through the Secret's cacert, as a site would give it.
    pki = makePki('vcsim-podman');
    vcsim = await startVcsim({ cluster: 1, host: 1, standaloneHost: 0, vm: 1, autostart: false, tlsCert: pki.serverCert, tlsKey: pki.serverKey });
    const client = await vcsim.client();
    try {
      await installGuest(vcsim, client, 'DC0_C0_RP0_VM0', debian);
    } finally {
      await client.logout();
    }
    fakeVddk = await fakeVddkEnvFor(vcsim);
    const sources = await vcsim.sourcesFile({ caFile: pki.caCert, thumbprint: fakeVddk.thumbprint });
    await writeFile(join(work, 'mapping.yaml'), GUEST_VM_MAPPING);
    plan = join(work, 'plan.yaml');
    await writeFile(
      plan,
      [
        'apiVersion: v2v.kubevirt.io/v1alpha1',
        'kind: BatchPlan',
        `sourcesFile: ${JSON.stringify(sources)}`,
        'defaults: { source: vc, mapping: mapping.yaml, targetDir: out, targetNamespace: migrated }',
        'vms:',
        `  - { vm: DC0_C0_RP0_VM0, targetName: ${VM_NAME} }`,
        '',
      ].join('\n'),
    );
  }, 10 * MINUTES);

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await vcsim?.stop();
    if (work) await rm(work, { recursive: true, force: true });
    if (pki) await rm(pki.dir, { recursive: true, force: true });
  }, 5 * MINUTES);

  it(
    'converts the Debian guest with virt-v2v inside the container, serves /status and /vm, exits 0; the VirtualMachine boots the very volume it filled, and libguestfs sees the converted guest there',
    async () => {
      const out = join(work, 'jobs');
      const emitted = await runCli(['batch', plan, '--emit', 'jobs', '--output-dir', out, '--image', images.v2v, '--vddk-image', images.vddk]);
      expect(emitted.code, emitted.stderr).toBe(0);
      const docs = parseAllDocuments(readFileSync(join(out, `${VM_NAME}.yaml`), 'utf8')).map((d) => d.toJS() as K8sDoc);
      expect(docs.map((d) => d.kind)).toEqual(['ConfigMap', 'PersistentVolumeClaim', 'Job', 'VirtualMachine']);
      const configMap = docs[0]!;
      const claims = docs.filter((d) => d.kind === 'PersistentVolumeClaim').map((d) => d.metadata.name);
      const job = new Job(docs[2] as never);
      job.validate();
      const virtualMachine = docs[3] as VirtualMachineDoc;
      expect(validateObject(virtualMachine)).toEqual([]);

      // No volume of the Job hides anything of the image it mounts into (a mount at /opt would hide the program).
      for (const c of [...(job.spec!.template.spec!.initContainers ?? []), ...job.spec!.template.spec!.containers]) {
        const mountPaths = (c.volumeMounts ?? []).map((m) => m.mountPath);
        const hidden = await podman([
          'run',
          '--rm',
          '--network',
          'none',
          '--entrypoint',
          'sh',
          c.image!,
          '-c',
          'find "$@" -mindepth 1 -maxdepth 1 2>/dev/null; true',
          'sh',
          ...mountPaths,
        ]);
        expect(hidden.trim(), `${c.name} mounts ${mountPaths.join(' ')}`).toBe('');
      }

      // What a kubelet would provide.
      const secretDir = join(work, 'secret');
      await mkdir(secretDir);
      const secret = { accessKeyId: vcsim.username, secretKey: vcsim.password, thumbprint: fakeVddk.thumbprint, cacert: readFileSync(pki.caCert, 'utf8') };
      for (const [key, value] of Object.entries(secret)) await writeFile(join(secretDir, key), value, { mode: 0o644 });
      const emptyDirs = new Map<string, string>();
      for (const v of job.spec!.template.spec!.volumes!.filter((v) => v.emptyDir)) {
        const dir = join(work, 'empty-dirs', v.name);
        await mkdir(dir, { recursive: true });
        await chmod(dir, 0o777);
        emptyDirs.set(v.name, dir);
      }
      const terminationLog = join(work, 'termination-log');
      await writeFile(terminationLog, '', { mode: 0o666 });
      await chmod(terminationLog, 0o666);
      // The fake VDDK, running as the pod's user, reads the flat disks on vcsim's datastores.
      const datastoreDirs = [...vcsim.datastores.values()];
      for (const dir of datastoreDirs) execFileSync('chmod', ['-R', 'o+rX', dir]);
      const fakeVddkEnv = Object.fromEntries(Object.entries(fakeVddk.env).filter((e): e is [string, string] => e[1] !== undefined));

      const pod = new Pod(playablePod(job.toJSON() as IJob, { secretDir, emptyDirs, terminationLog, fakeVddkEnv, datastoreDirs }));
      pod.validate();
      const podName = pod.metadata!.name!;
      const emittedConversion = job.spec!.template.spec!.containers.find((c) => c.name === 'v2v')!;
      const port = (name: string) => emittedConversion.ports!.find((p) => p.name === name)!.containerPort;
      await assertPortFree(port('results'));
      await assertPortFree(port('metrics'));

      // A killed earlier run may have left its pod and volumes (kube play keeps a ConfigMap as a volume of its name).
      await podman(['pod', 'rm', '--force', '--ignore', podName]);
      for (const volume of [configMap.metadata.name, ...claims]) await podman(['volume', 'rm', '--force', volume]).catch(() => undefined);
      cleanups.push(() => podman(['volume', 'rm', '--force', configMap.metadata.name]));
      cleanups.push(() => podman(['pod', 'rm', '--force', '--ignore', podName], 3 * MINUTES));
      const volumeDirs: string[] = [];
      for (const claim of claims) {
        await podman(['volume', 'create', claim]);
        cleanups.push(() => podman(['volume', 'rm', '--force', claim]));
        const dir = (await podman(['volume', 'inspect', '--format', '{{.Mountpoint}}', claim])).trim();
        // fsGroup: the kubelet gives a volume to the pod's group, group-writable and setgid.
        await chown(dir, 0, POD_USER);
        await chmod(dir, 0o2775);
        volumeDirs.push(dir);
      }

      const playFile = join(work, 'play.yaml');
      await writeFile(playFile, [configMap, pod.toJSON()].map((o) => `---\n${stringify(o, { lineWidth: 0 })}`).join(''));
      const started = Date.now();
      await podman(['kube', 'play', playFile], 10 * MINUTES);
      const container = `${podName}-v2v`;
      const logs = async () => (await containerLogs(container)).slice(-4000);

      // The init container ran as the pod's user and left the library in the shared emptyDir.
      expect(statSync(join(emptyDirs.get('vddk')!, 'vmware-vix-disklib-distrib/lib64/libvixDiskLib.so.8')).uid).toBe(POD_USER);

      let status: PodStatus | undefined;
      const phases = new Set<string>();
      while (Date.now() - started < 25 * MINUTES) {
        const res = await get(port('results'), '/status').catch(() => undefined);
        if (res?.status === 200) {
          status = JSON.parse(res.text) as PodStatus;
          phases.add(status.phase);
          if (status.phase === 'Succeeded' || status.phase === 'Failed') break;
        }
        if ((await containerState(container)).status !== 'running') break;
        await new Promise((r) => setTimeout(r, 2000));
      }
      expect(status?.phase, await logs()).toBe('Succeeded');
      expect(status).toMatchObject({ progress: 100 });
      expect(status!.conditions.find((c) => c.type === 'Succeeded')).toMatchObject({ status: 'True', reason: 'VirtualMachineReady' });
      expect([...phases]).toContain('ConvertingGuest');
      const served = await get(port('results'), '/vm');
      expect(served.status).toBe(200);
      const servedVm = JSON.parse(served.text) as VirtualMachineDoc;
      expect(validateObject(servedVm)).toEqual([]);

      await podman(['pod', 'stop', '--time', '60', podName], 3 * MINUTES);
      expect(await containerState(container), await logs()).toMatchObject({ status: 'exited', exitCode: 0 });
      expect(readFileSync(terminationLog, 'utf8')).toMatch(/^succeeded DC0_C0_RP0_VM0: 1 disk\(s\)/);
      console.log(`pod-podman: played in ${((Date.now() - started) / 1000).toFixed(0)} s`);

      // The VirtualMachine in the bundle, and the one the pod serves, boot exactly the claims the pod filled.
      const claimNames = (vm: VirtualMachineDoc) => vm.spec.template.spec.volumes.flatMap((v) => (v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : []));
      expect(claims).toEqual([`${VM_NAME}-disk0`]);
      expect(claimNames(virtualMachine)).toEqual(claims);
      expect(claimNames(servedVm)).toEqual(claims);
      const disk = join(volumeDirs[0]!, 'disk.img');
      expect(existsSync(disk)).toBe(true);
      expect(existsSync(`${disk}.v2v-partial`)).toBe(false);

      // An independent look, from the host, at what is in that volume: the converted Debian 12.
      const looked = execFileSync('guestfish', ['--ro', '--format=raw', '-a', disk, '-i'], {
        input: 'inspect-get-distro /dev/sda1\ninspect-get-major-version /dev/sda1\ncat /etc/fstab\n',
        env: { ...process.env, LIBGUESTFS_BACKEND: 'direct', LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' },
        encoding: 'utf8',
        timeout: 10 * MINUTES,
      });
      expect(looked).toMatch(/^debian\n12\n/);
      // virt-v2v's own work: the VMware device name became virtio.
      expect(looked).toMatch(/^\/dev\/vda1\s+\/\s+ext4/m);
    },
    40 * MINUTES,
  );
});
