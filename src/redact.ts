// Secrets are registered where they are read (password files, tokens) and
// scrubbed from every message, hint and log line that leaves the process.

const secrets = new Set<string>();

export function registerSecret(secret: string | undefined): void {
  // Very short strings would blank out ordinary words; nothing real is that short.
  if (secret && secret.length >= 4) secrets.add(secret);
}

export function redact(text: string): string {
  let out = text;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join('[REDACTED]');
  }
  return out;
}

/** Removes userinfo and credential-like query parameters from a URL for display. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '';
      u.password = '';
    }
    for (const key of [...u.searchParams.keys()]) {
      if (/pass|secret|token|key|sig/i.test(key)) u.searchParams.set(key, 'REDACTED');
    }
    return redact(u.toString());
  } catch {
    return redact(url);
  }
}
