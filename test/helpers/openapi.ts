import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { PersistentVolumeClaim } from 'kubernetes-models/v1';
import { REPO } from './peers.js';

// Validates emitted objects against the upstream KubeVirt and CDI OpenAPI
// (swagger 2.0) schemas copied into test/data/schemas (see SOURCES.md there).
// Like `kubectl apply --dry-run=client --validate=strict`, unknown fields are
// errors: every object definition with properties is closed. Quantities are
// checked for Kubernetes' quantity syntax. apiVersion and kind are plain
// strings in the schemas, so the caller's expected values are checked here.

interface Swagger {
  definitions: Record<string, Record<string, unknown>>;
}

const QUANTITY = '^[+-]?(\\d+(\\.\\d*)?|\\.\\d+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?\\d+)?$';

function strictDefinitions(file: string): Record<string, unknown> {
  const swagger = JSON.parse(readFileSync(`${REPO}test/data/schemas/${file}`, 'utf8')) as Swagger;
  const defs: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(swagger.definitions)) {
    const copy: Record<string, unknown> = { ...def };
    if (copy['type'] === 'object' && copy['properties'] && copy['additionalProperties'] === undefined) copy['additionalProperties'] = false;
    if (name === 'k8s.io.apimachinery.pkg.api.resource.Quantity') copy['pattern'] = QUANTITY;
    defs[name] = copy;
  }
  return defs;
}

function makeAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true });
  for (const f of ['int32', 'int64', 'byte', 'double', 'float', 'date-time']) ajv.addFormat(f, true);
  return ajv;
}

const cache = new Map<string, ValidateFunction>();

function validator(file: string, definition: string): ValidateFunction {
  const key = `${file}#${definition}`;
  let v = cache.get(key);
  if (!v) {
    v = makeAjv().compile({ definitions: strictDefinitions(file), $ref: `#/definitions/${definition}` });
    cache.set(key, v);
  }
  return v;
}

const KINDS: Record<string, { file: string; definition: string; apiVersion: string }> = {
  VirtualMachine: { file: 'kubevirt-swagger.json', definition: 'v1.VirtualMachine', apiVersion: 'kubevirt.io/v1' },
  DataVolume: { file: 'cdi-swagger.json', definition: 'v1beta1.DataVolume', apiVersion: 'cdi.kubevirt.io/v1beta1' },
};

function describeErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map(
    (e) => `${e.instancePath || '/'} ${e.message ?? ''}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params['additionalProperty'])})` : ''}`,
  );
}

/** Problems with one object (empty when it is valid), as `kubectl apply --dry-run=client` would see them; PVCs by kubernetes-models' core schema. */
export function validateObject(obj: unknown): string[] {
  if ((obj as { kind?: unknown })?.kind === 'PersistentVolumeClaim') {
    try {
      new PersistentVolumeClaim(obj as never).validate();
      return [];
    } catch (e) {
      return [String(e)];
    }
  }
  const o = obj as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown }; spec?: { dataVolumeTemplates?: { apiVersion?: unknown; kind?: unknown }[] } };
  const kind = KINDS[String(o?.kind)];
  if (!kind) return [`unknown kind ${String(o?.kind)}`];
  const problems: string[] = [];
  if (o.apiVersion !== kind.apiVersion) problems.push(`apiVersion is ${String(o.apiVersion)}, expected ${kind.apiVersion}`);
  if (typeof o.metadata?.name !== 'string' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(o.metadata.name) || o.metadata.name.length > 63)
    problems.push(`metadata.name ${String(o.metadata?.name)} is not an RFC 1123 label`);
  for (const [i, t] of (o.spec?.dataVolumeTemplates ?? []).entries()) {
    if (t.apiVersion !== undefined && t.apiVersion !== 'cdi.kubevirt.io/v1beta1') problems.push(`dataVolumeTemplates[${i}].apiVersion is ${String(t.apiVersion)}`);
    if (t.kind !== undefined && t.kind !== 'DataVolume') problems.push(`dataVolumeTemplates[${i}].kind is ${String(t.kind)}`);
  }
  const v = validator(kind.file, kind.definition);
  if (!v(obj)) problems.push(...describeErrors(v.errors));
  return problems;
}
