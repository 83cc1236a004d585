import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { VimClient } from '../../adapters/vsphere/client.js';
import { peerBinary } from './peers.js';

export interface VcsimOptions {
  dc?: number;
  cluster?: number;
  host?: number;
  standaloneHost?: number;
  vm?: number;
  ds?: number;
  autostart?: boolean;
  esx?: boolean;
  username?: string;
  password?: string;
  tlsCert?: string;
  tlsKey?: string;
  /** Upper bound on objects per property-collector page, as a busy vCenter may impose. */
  maxPage?: number;
}

export interface Vcsim {
  url: string;
  username: string;
  password: string;
  /** Datastore name → local directory behind it. */
  datastores: Map<string, string>;
  /** A logged-in client for arranging test cases through real vim25 calls. */
  client(): Promise<VimClient>;
  /** Writes a sources file (and password file) for this simulator; returns its path. */
  sourcesFile(extra?: Record<string, unknown>, name?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startVcsim(options: VcsimOptions = {}): Promise<Vcsim> {
  const bin = peerBinary('.cache/vcsim/vcsim-v2v', 'the vcsim test peer');
  const username = options.username ?? 'administrator@vsphere.local';
  const password = options.password ?? 'vcsim-Passw0rd!';
  const args = ['-l', '127.0.0.1:0', '-username', username, '-password', password];
  const flags: [keyof VcsimOptions, string][] = [
    ['dc', '-dc'],
    ['cluster', '-cluster'],
    ['host', '-host'],
    ['standaloneHost', '-standalone-host'],
    ['vm', '-vm'],
    ['ds', '-ds'],
    ['maxPage', '-max-page'],
  ];
  for (const [key, flag] of flags) if (options[key] !== undefined) args.push(flag, String(options[key]));
  if (options.autostart !== undefined) args.push(`-autostart=${options.autostart}`);
  if (options.esx) args.push('-esx');
  if (options.tlsCert) args.push('-tlscert', options.tlsCert, '-tlskey', options.tlsKey!);
  const child: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const datastores = new Map<string, string>();
  const url = await new Promise<string>((resolve, reject) => {
    let found: string | undefined;
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error(`vcsim did not start in 60 s: ${stderr}`)), 60_000);
    lines.on('line', (line) => {
      if (line.startsWith('VCSIM_URL=')) found = line.slice('VCSIM_URL='.length);
      if (line.startsWith('VCSIM_DATASTORE=')) {
        const [name, dir] = line.slice('VCSIM_DATASTORE='.length).split('=');
        datastores.set(name!, dir!);
      }
      if (line.startsWith('VCSIM_PID=')) {
        clearTimeout(timer);
        resolve(found!);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`vcsim exited with ${code}: ${stderr}`));
    });
  });
  let dir: string | undefined;
  return {
    url,
    username,
    password,
    datastores,
    async client() {
      const c = new VimClient({ url, insecureSkipVerify: true });
      await c.connect(username, password);
      return c;
    },
    async sourcesFile(extra = { insecureSkipVerify: true }, name = 'vc') {
      dir ??= await mkdtemp(join(tmpdir(), 'v2v-vcsim-'));
      const pwFile = join(dir, 'password');
      await writeFile(pwFile, `${password}\n`, { mode: 0o600 });
      const file = join(dir, `sources-${name}.yaml`);
      const entry = { name, type: 'vsphere', url, username, passwordFile: pwFile, ...extra };
      await writeFile(
        file,
        `sources:\n  - ${Object.entries(entry)
          .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
          .join('\n    ')}\n`,
      );
      return file;
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}
