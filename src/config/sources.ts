import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { registerSecret } from '../redact.js';
import { loadYamlFile } from './yaml-file.js';

/**
 * Plain http would carry the vim25 Login or the oVirt SSO password in cleartext: a source URL must be
 * https unless the source opts in with `allowInsecureHttp: true` (and every run then warns). `path` is
 * where the URL sits in the object the check runs on.
 */
export function cleartextUrlIssue(url: string, allowInsecureHttp: boolean | undefined, path: PropertyKey[]): z.core.$ZodRawIssue | undefined {
  if (allowInsecureHttp || !isCleartext(url)) return undefined;
  return {
    code: 'custom',
    input: url,
    path,
    message: 'http:// would send the password in cleartext; use https://, or set allowInsecureHttp: true to accept that',
  };
}

function isCleartext(url: string): boolean {
  // A schema's checks also run on a value whose URL failed its own check.
  return URL.canParse(url) && new URL(url).protocol === 'http:';
}

/** What a run says about a source on every run: the ways its password or its server are left unprotected. */
export function insecureSourceWarnings(source: Pick<SourceConfig, 'name' | 'url' | 'insecureSkipVerify'>): string[] {
  const warnings: string[] = [];
  if (isCleartext(source.url)) warnings.push(`source "${source.name}": the password travels in cleartext over http:// (allowInsecureHttp)`);
  if (source.insecureSkipVerify) warnings.push(`source "${source.name}": TLS verification is off (insecureSkipVerify); the server is not authenticated`);
  return warnings;
}

const thumbprint = z.string().regex(/^([0-9A-Fa-f]{2}:){19}[0-9A-Fa-f]{2}$/, 'expected a SHA-1 thumbprint like "AA:BB:…:FF" (20 hex pairs)');

export const SourceConfigSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-" only'),
    type: z.enum(['vsphere', 'ovirt']),
    url: z.url({ protocol: /^https?$/ }),
    username: z.string().min(1),
    passwordFile: z.string().min(1).optional(),
    passwordEnv: z.string().min(1).optional(),
    caFile: z.string().min(1).optional(),
    insecureSkipVerify: z.boolean().optional(),
    allowInsecureHttp: z.boolean().optional().describe('accept an http:// url: the password travels in cleartext (warned on every run)'),
    thumbprint: thumbprint.optional(),
    datacenter: z.string().min(1).optional(),
  })
  .check((ctx) => {
    const v = ctx.value;
    if (!v.passwordFile === !v.passwordEnv) {
      ctx.issues.push({ code: 'custom', input: v, path: ['passwordFile'], message: 'exactly one of passwordFile or passwordEnv is required (passwords are never inline)' });
    }
    const cleartext = cleartextUrlIssue(v.url, v.allowInsecureHttp, ['url']);
    if (cleartext) ctx.issues.push(cleartext);
    if (v.caFile && v.insecureSkipVerify) {
      ctx.issues.push({ code: 'custom', input: v, path: ['insecureSkipVerify'], message: 'caFile and insecureSkipVerify exclude each other' });
    }
  });

const SourcesFileSchema = z.strictObject({
  sources: z.array(SourceConfigSchema).min(1, 'at least one source is required'),
});

export type SourceConfig = z.output<typeof SourceConfigSchema> & {
  /** Directory of the sources file; relative paths resolve against it. */
  baseDir: string;
  /**
   * A password held in memory, set only by code (a provider Secret object read
   * with `check -f`); never accepted in the sources file, which refuses inline
   * passwords. Registered as a secret when read.
   */
  password?: string;
  /** A CA bundle (PEM) held in memory, e.g. the `caCert` of an oVirt provider Secret. */
  ca?: string;
  /** Trust the server certificate by `thumbprint` instead of a CA (a VMware provider Secret); code-only, like `password`. */
  pinThumbprint?: boolean;
};

export async function loadSources(file: string): Promise<SourceConfig[]> {
  // An inline password gets its own message: it is the one unknown field that must never be echoed.
  const parsed = await loadYamlFile(file, SourcesFileSchema, 'the sources file').catch((e: unknown) => {
    if (e instanceof ConfigError && /unknown field "password"/.test(e.message)) {
      throw new ConfigError('CONFIG_INLINE_SECRET', e.message.replace(/: unknown field .*/, ': inline passwords are not accepted'), {
        hint: 'put the password in a file (passwordFile) or an environment variable (passwordEnv)',
        details: { ...e.details },
      });
    }
    throw e;
  });
  const names = new Set<string>();
  for (const s of parsed.sources) {
    if (names.has(s.name)) throw new ConfigError('CONFIG_INVALID', `${file}: source name "${s.name}" is used twice`, { hint: 'give each source a unique name' });
    names.add(s.name);
  }
  const baseDir = dirname(resolve(file));
  return parsed.sources.map((s) => ({ ...s, baseDir }));
}

export async function selectSource(file: string, name: string): Promise<SourceConfig> {
  const sources = await loadSources(file);
  const found = sources.find((s) => s.name === name);
  if (!found) {
    throw new ConfigError('SOURCE_NOT_CONFIGURED', `${file}: no source named "${name}"`, {
      hint: `configured sources: ${sources.map((s) => s.name).join(', ')}`,
    });
  }
  return found;
}

export async function readPassword(source: SourceConfig, env: Readonly<NodeJS.ProcessEnv>): Promise<string> {
  let password: string | undefined;
  if (source.password !== undefined) {
    password = source.password;
  } else if (source.passwordFile) {
    const path = resolve(source.baseDir, source.passwordFile);
    try {
      password = (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
    } catch (cause) {
      throw new ConfigError('SECRET_UNREADABLE', `source "${source.name}": cannot read passwordFile ${path}`, { hint: 'check the file exists and is readable', cause });
    }
  } else if (source.passwordEnv) {
    password = env[source.passwordEnv];
    if (password === undefined) {
      throw new ConfigError('SECRET_UNREADABLE', `source "${source.name}": environment variable ${source.passwordEnv} is not set`, { hint: `export ${source.passwordEnv}` });
    }
  }
  if (!password) throw new ConfigError('SECRET_UNREADABLE', `source "${source.name}": the password is empty`, { hint: 'put the password in the password file' });
  registerSecret(password);
  return password;
}

/**
 * A CA bundle from a PEM file, or from the seed's CA ConfigMap YAML (key `ca.pem`).
 */
export async function readCaBundle(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ConfigError('CONFIG_NOT_FOUND', `cannot read CA file ${path}`, { hint: 'check the caFile path', cause });
  }
  if (text.trimStart().startsWith('-----BEGIN CERTIFICATE-----')) return text;
  let doc: { kind?: string; data?: Record<string, string> } | null = null;
  try {
    doc = parseYaml(text, { prettyErrors: false }) as { kind?: string; data?: Record<string, string> } | null;
  } catch {
    // neither PEM nor YAML: refused below
  }
  const pem = doc?.data?.['ca.pem'];
  if (doc?.kind === 'ConfigMap' && pem?.includes('-----BEGIN CERTIFICATE-----')) return pem;
  throw new ConfigError('CONFIG_INVALID', `${path}: neither a PEM certificate bundle nor a ConfigMap with data "ca.pem"`, {
    hint: 'point caFile at the CA certificate in PEM form',
  });
}

/** The source's CA bundle: in memory (a provider Secret's caCert), from caFile, or none (system trust). */
export async function readSourceCa(source: SourceConfig): Promise<string | undefined> {
  if (source.ca) return source.ca;
  return source.caFile ? readCaBundle(resolve(source.baseDir, source.caFile)) : undefined;
}
