import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { openHttpSource, openRegistrySource, startUploadServer, type UploadEndpoint } from '../../../adapters/index.js';
import { extractArchive } from '../../copy/archive.js';
import { copyDisk, type CopyResult } from '../../copy/engine.js';
import { formatBytes, parseSize } from '../../copy/errors.js';
import { loadImportObjects, planFromDataVolume, secretValue, type ImportPlan } from '../../copy/datavolume.js';
import { openLocalFile } from '../../copy/local-file.js';
import { renderProgressLine, type CopyProgress } from '../../copy/progress.js';
import type { DiskSource, RandomAccessSource } from '../../copy/source.js';
import type { TargetSpec } from '../../copy/target.js';
import { ConfigError, UsageError } from '../../errors.js';
import { ExitCode } from '../../model.js';
import { registerSecret } from '../../redact.js';
import type { CliContext } from '../context.js';
import { hostPortOption, numberOption } from '../numeric-option.js';

interface ImportOptions {
  url?: string;
  file?: string;
  name?: string;
  upload?: boolean;
  listen?: string;
  uploadTokenFile?: string;
  target: string;
  size?: string;
  volumeMode?: 'Filesystem' | 'Block';
  contentType?: 'kubevirt' | 'archive';
  preallocation?: boolean;
  checksum?: boolean;
  secretFile?: string[];
  configmapFile?: string[];
  secret?: string;
  ca?: string;
  insecureRegistry?: string[];
  insecureSkipTlsVerify?: boolean;
  filesystemOverhead?: number;
  stallTimeout: number;
  scratchDir?: string;
  stateDir?: string;
  output: 'text' | 'json';
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** A PEM bundle, or the seed's CA ConfigMap (data."ca.pem"). */
async function readCa(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ConfigError('CONFIG_NOT_FOUND', `cannot read CA file ${path}`, { hint: 'check the --ca path', cause });
  }
  if (/^\s*-----BEGIN CERTIFICATE-----/.test(text)) return text;
  const doc = parseYaml(text) as { kind?: string; data?: Record<string, string> } | null;
  const pem = doc?.data?.['ca.pem'];
  if (doc?.kind === 'ConfigMap' && pem?.includes('-----BEGIN CERTIFICATE-----')) return pem;
  throw new ConfigError('CONFIG_INVALID', `${path}: neither a PEM certificate bundle nor a ConfigMap with data "ca.pem"`, {
    hint: 'pass the CA certificate (PEM) or the CA ConfigMap YAML',
  });
}

function blankSource(size: number): RandomAccessSource {
  const zeros = Buffer.alloc(0);
  return {
    kind: 'random',
    description: 'blank',
    size,
    identity: `blank|${size}`,
    extents: async (offset, length) => [{ offset, length, zero: true }],
    read: async () => zeros,
    close: async () => undefined,
  };
}

async function plan(opts: ImportOptions): Promise<ImportPlan> {
  const modes = [opts.url !== undefined, opts.file !== undefined, opts.upload === true].filter(Boolean).length;
  if (modes !== 1)
    throw new UsageError('USAGE', 'give exactly one of --url URL, -f DATAVOLUME.yaml, --upload', { hint: 'v2v import --url https://host/disk.qcow2 --target DIR --size 10Gi' });
  const extraFiles = [...(opts.secretFile ?? []), ...(opts.secret ? [opts.secret] : []), ...(opts.configmapFile ?? [])];
  let p: ImportPlan;
  if (opts.file) {
    const objects = await loadImportObjects([opts.file, ...extraFiles]);
    p = planFromDataVolume(objects, opts.name);
  } else {
    const objects = await loadImportObjects(extraFiles);
    const url = opts.url;
    p = {
      name: 'import',
      source: opts.upload ? { kind: 'upload' } : url!.startsWith('docker://') ? { kind: 'registry', url: url! } : { kind: 'http', url: url! },
      volumeMode: 'Filesystem',
      contentType: 'kubevirt',
      preallocation: false,
    };
    const secret = objects.secrets[0];
    if (secret) {
      const user = secretValue(secret, 'accessKeyId');
      const pass = secretValue(secret, 'secretKey');
      if (user) p.username = user;
      if (pass) p.password = pass;
    }
    const cm = objects.configMaps[0];
    if (cm?.data?.['ca.pem']) p.ca = cm.data['ca.pem'];
  }
  if (opts.ca) p.ca = await readCa(opts.ca);
  if (opts.volumeMode) p.volumeMode = opts.volumeMode;
  if (opts.contentType) p.contentType = opts.contentType;
  if (opts.preallocation) p.preallocation = true;
  if (opts.size) p.size = opts.size;
  return p;
}

function sizeOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseSize(text);
  } catch (e) {
    throw new UsageError('USAGE', `--size: ${(e as Error).message}`, { hint: 'e.g. --size 10Gi' });
  }
}

async function openPlannedSource(
  p: ImportPlan,
  opts: ImportOptions,
  size: number | undefined,
  env: Readonly<NodeJS.ProcessEnv>,
  signal: AbortSignal,
): Promise<{ source: DiskSource; upload?: UploadEndpoint }> {
  const tls = { ...(p.ca ? { ca: p.ca } : {}), ...(opts.insecureSkipTlsVerify ? { insecureSkipVerify: true } : {}) };
  const creds = { ...(p.username !== undefined ? { username: p.username } : {}), ...(p.password !== undefined ? { password: p.password } : {}) };
  switch (p.source.kind) {
    case 'http': {
      const url = p.source.url;
      if (url.startsWith('file://') || url.startsWith('/')) return { source: await openLocalFile(url.startsWith('file://') ? new URL(url).pathname : url) };
      if (!/^https?:\/\//.test(url)) throw new UsageError('USAGE', `--url ${url}: use http://, https://, docker:// or file://`, {});
      return { source: await openHttpSource({ url, ...creds, ...tls, env, signal }) };
    }
    case 'registry':
      return { source: await openRegistrySource({ url: p.source.url, ...creds, ...tls, insecureRegistries: opts.insecureRegistry ?? [], env }) };
    case 'upload': {
      if (!opts.uploadTokenFile) throw new UsageError('USAGE', 'an upload needs --upload-token-file FILE (the bearer token clients send)', {});
      const token = (await readFile(opts.uploadTokenFile, 'utf8')).trim();
      registerSecret(token);
      const [host, port] = (opts.listen ?? '127.0.0.1:8443').split(/:(?=\d+$)/);
      const upload = await startUploadServer({ host: host || '127.0.0.1', port: Number(port ?? 8443), token });
      return { source: upload.source, upload };
    }
    case 'blank':
      if (size === undefined) throw new UsageError('USAGE', 'a blank disk needs --size', {});
      return { source: blankSource(size) };
  }
}

export function registerImport(program: Command, ctx: CliContext): void {
  program
    .command('import')
    .description('import a disk image into a Filesystem directory or a Block device, as a CDI DataVolume does')
    .option('--url <url>', 'http(s)://…, docker://registry/repo:tag, or file:///path')
    .option('-f, --file <datavolume.yaml>', 'a DataVolume (cdi.kubevirt.io/v1beta1); may also hold its Secret and ConfigMap')
    .option('--name <name>', 'which DataVolume of the file')
    .option('--upload', 'listen for an upload (CDI upload paths, bearer token)')
    .addOption(hostPortOption('--listen <host:port>', 'upload listen address', '127.0.0.1:8443'))
    .option('--upload-token-file <file>', 'the bearer token uploads must carry')
    .requiredOption('--target <path>', 'the volume: a directory (Filesystem) or a block device (Block)')
    .option('--size <size>', 'requested volume size (10Gi, 512Mi, bytes); the image is grown to it')
    .addOption(new Option('--volume-mode <mode>', 'Filesystem: <target>/disk.img; Block: the raw device').choices(['Filesystem', 'Block']))
    .addOption(new Option('--content-type <type>', 'kubevirt: a disk image; archive: a tar extracted into the directory').choices(['kubevirt', 'archive']))
    .option('--preallocation', 'allocate the whole image')
    .option('--checksum', 'compare sha256 of the source data with the target')
    .option('--secret-file <file>', 'the endpoint Secret YAML (accessKeyId / secretKey)', collect)
    .option('--secret <file>', 'same as --secret-file')
    .option('--configmap-file <file>', 'the CA ConfigMap YAML (ca.pem)', collect)
    .option('--ca <file>', 'CA bundle (PEM, or the CA ConfigMap YAML)')
    .option('--insecure-registry <host:port>', 'a registry that may use HTTP or unverified TLS', collect)
    .option('--insecure-skip-tls-verify', 'do not verify the server certificate (explicit, warned)')
    .addOption(numberOption('--filesystem-overhead <fraction>', 'share of a Filesystem volume kept free (CDI default 0.055)', { min: 0, max: 1, belowMax: true, example: 0.055 }))
    .addOption(numberOption('--stall-timeout <seconds>', 'fail with COPY_STALLED when no data moves this long', { min: 1, max: 86_400, integer: true, example: 120 }, 120))
    .option('--scratch-dir <dir>', 'where streamed qcow2/vmdk land before conversion')
    .option('--state-dir <dir>', 'where Block targets keep their in-progress marker (default $V2V_STATE_DIR, else /var/lib/v2v)')
    .addOption(new Option('-o, --output <format>', 'result format').choices(['text', 'json']).default('text'))
    .action(async (opts: ImportOptions) => {
      const p = await plan(opts);
      const size = sizeOf(p.size);
      if (opts.insecureSkipTlsVerify) ctx.log.warn('TLS verification is off for this import');
      const overhead = opts.filesystemOverhead;
      if (p.contentType === 'archive' && p.volumeMode === 'Block') throw new UsageError('USAGE', 'an archive can only be extracted into a Filesystem volume', {});
      const target: TargetSpec =
        p.volumeMode === 'Block'
          ? { kind: 'block', device: opts.target, stateDir: opts.stateDir ?? ctx.runtime.stateDir }
          : {
              kind: 'filesystem',
              dir: opts.target,
              ...(size !== undefined ? { size } : {}),
              ...(overhead !== undefined ? { filesystemOverhead: overhead } : {}),
              ...(p.preallocation ? { preallocation: true } : {}),
            };

      const { signal } = ctx;
      const { source, upload } = await openPlannedSource(p, opts, size, ctx.runtime.env, signal);
      if (upload) ctx.log.info({ url: upload.url }, 'waiting for an upload');
      const tty = Boolean((ctx.stderr as NodeJS.WriteStream).isTTY);
      const onProgress = (pr: CopyProgress) => {
        if (tty) ctx.stderr.write(`\r${renderProgressLine(pr)}\x1b[K${pr.phase === 'done' ? '\n' : ''}`);
        else ctx.log.info({ event: 'progress', ...pr }, 'copy progress');
      };
      try {
        if (p.contentType === 'archive') {
          const r = await extractArchive(source, opts.target, signal);
          ctx.stdout.write(
            opts.output === 'json'
              ? JSON.stringify({ name: p.name, target: opts.target, ...r }) + '\n'
              : `extracted ${r.files} files (${formatBytes(r.bytes)}) into ${opts.target}\n`,
          );
          upload?.finish();
        } else {
          let result: CopyResult;
          try {
            result = await copyDisk({
              source,
              target,
              signal,
              onProgress,
              progressIntervalMs: tty ? 250 : 2000,
              stallTimeoutMs: opts.stallTimeout * 1000,
              checksum: Boolean(opts.checksum),
              log: ctx.log,
              label: p.name,
              ...(opts.scratchDir ? { scratchDir: opts.scratchDir } : {}),
            });
            upload?.finish();
          } catch (e) {
            upload?.finish(e);
            throw e;
          }
          ctx.log.info({ event: 'imported', ...result }, 'import finished');
          ctx.stdout.write(
            opts.output === 'json'
              ? JSON.stringify({ name: p.name, ...result }) + '\n'
              : `imported ${source.description} → ${result.path}: ${result.format}${result.compression !== 'none' ? `+${result.compression}` : ''}, ${formatBytes(result.virtualSize)} disk grown to ${formatBytes(result.targetSize)}, ${formatBytes(result.bytesCopied)} written${result.sha256 ? `, sha256 ${result.sha256}` : ''} in ${(result.durationMs / 1000).toFixed(1)} s\n`,
          );
        }
        ctx.exitCode = ExitCode.ok;
      } finally {
        await upload?.close();
      }
    });
}
