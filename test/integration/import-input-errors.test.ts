// Bad input to `v2v import` is exit 2 with the file, line and field named.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'v2v-input-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('v2v import input errors', () => {
  it('an unknown DataVolume field names file:line and the path (exit 2)', async () => {
    const dv = join(work, 'dv.yaml');
    writeFileSync(
      dv,
      'apiVersion: cdi.kubevirt.io/v1beta1\nkind: DataVolume\nmetadata:\n  name: dv\nspec:\n  source:\n    http:\n      url: "http://127.0.0.1:1/x.img"\n      certConfigMapp: tls-certs\n',
    );
    const r = await runCli(['import', '-f', dv, '--target', work]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error CONFIG_INVALID: ${dv}:9:`);
    expect(r.stderr).toContain('spec.source.http.certConfigMapp: unknown field');
  });

  it('a secretRef to a Secret that was not given is OBJECT_NOT_FOUND (exit 2)', async () => {
    const dv = join(work, 'dv2.yaml');
    writeFileSync(
      dv,
      'apiVersion: cdi.kubevirt.io/v1beta1\nkind: DataVolume\nmetadata:\n  name: dv2\nspec:\n  source:\n    http:\n      url: "http://127.0.0.1:1/x.img"\n      secretRef: endpoint-secret\n',
    );
    const r = await runCli(['import', '-f', dv, '--target', work]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error OBJECT_NOT_FOUND');
    expect(r.stderr).toContain('--secret-file');
  });

  it('neither --url nor -f nor --upload is a usage error (exit 2)', async () => {
    const r = await runCli(['import', '--target', work]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/exactly one of --url/);
  });

  it('an unreachable source is SOURCE_UNREACHABLE (exit 1)', async () => {
    const r = await runCli(['import', '--url', 'http://127.0.0.1:1/x.img', '--target', work]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error SOURCE_UNREACHABLE');
  });
});
