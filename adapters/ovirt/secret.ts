import { z } from 'zod';
import { parseYamlText } from '../../src/config/yaml-file.js';
import { registerSecret } from '../../src/redact.js';
import type { OvirtConnection } from './index.js';

// The seed's RHV provider Secret carries its credentials as one YAML string,
// `stringData.ovirt`: apiUrl, username, password, caCert (the engine CA, PEM).

const OvirtSecretSchema = z.strictObject({
  apiUrl: z.url({ protocol: /^https?$/ }),
  username: z.string().min(1),
  password: z.string().min(1),
  caCert: z.string().includes('-----BEGIN CERTIFICATE-----', { message: 'expected the engine CA certificate in PEM form' }).optional(),
});

/** The connection described by a provider Secret's `ovirt` key; `where` names it in errors (file and key). */
export function ovirtConnectionFromSecret(ovirtYaml: string, where: string, name = 'ovirt'): OvirtConnection {
  const parsed = parseYamlText(ovirtYaml, where, OvirtSecretSchema, 'the provider Secret key "ovirt"');
  registerSecret(parsed.password);
  return { name, url: parsed.apiUrl, username: parsed.username, password: parsed.password, ...(parsed.caCert ? { ca: parsed.caCert } : {}) };
}
