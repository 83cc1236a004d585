import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { REPO } from './peers.js';

const run = promisify(execFile);

/** podman with the project's settings (scripts/containers.conf): runc, cgroupfs, the ulimits this host grants. */
const PODMAN_ENV: NodeJS.ProcessEnv = { ...process.env, CONTAINERS_CONF: `${REPO}scripts/containers.conf` };

export async function podman(args: string[], timeoutMs = 120_000): Promise<string> {
  try {
    const { stdout } = await run('podman', args, { env: PODMAN_ENV, encoding: 'utf8', maxBuffer: 1 << 26, timeout: timeoutMs });
    return stdout;
  } catch (e) {
    const failed = e as { stderr?: string; message: string };
    throw new Error(`podman ${args.join(' ')}: ${failed.stderr?.trim() || failed.message}`, { cause: e });
  }
}

/** A container's output: podman logs writes what the container wrote to stderr on its own stderr. */
export async function containerLogs(name: string, options: { timestamps?: boolean } = {}): Promise<string> {
  try {
    const { stdout, stderr } = await run('podman', ['logs', ...(options.timestamps ? ['--timestamps'] : []), name], { env: PODMAN_ENV, encoding: 'utf8', maxBuffer: 1 << 26 });
    return stdout + stderr;
  } catch (e) {
    return `podman logs ${name}: ${(e as Error).message}`;
  }
}

export interface ProjectImages {
  /** ./Dockerfile, on the local stand-in for node:20-bookworm-slim */
  v2v: string;
  /** ./vddk/Dockerfile around the fake libvixDiskLib */
  vddk: string;
}

/**
 * The images scripts/images.sh builds from this checkout (their tags hash
 * their inputs). Missing podman or images → the test fails and says how to
 * build them: a green run proves the images ran.
 */
export async function projectImages(): Promise<ProjectImages> {
  try {
    execFileSync('podman', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('podman is missing: run scripts/setup.sh (CI does), which installs scripts/apt-packages.txt');
  }
  const tags = Object.fromEntries(
    execFileSync('bash', [`${REPO}scripts/images.sh`, '--tags'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((line) => line.split('=') as [string, string]),
  );
  const images: ProjectImages = { v2v: tags['v2v']!, vddk: tags['vddk']! };
  for (const image of Object.values(images)) {
    await podman(['image', 'exists', image]).catch(() => {
      throw new Error(`the image ${image} is missing: run scripts/images.sh (scripts/test.sh and CI do) before the tests`);
    });
  }
  return images;
}
