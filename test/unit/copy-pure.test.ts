// Pure pieces of the data plane, in tables: sizes, CDI's usable space,
// content sniffing, zero runs, progress, image references, challenges,
// tar safety, multipart parsing, DataVolume planning.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { multipartFile } from '../../adapters/upload/index.js';
import { parseChallenge, parseImageRef } from '../../adapters/registry/index.js';
import { totalFromContentRange } from '../../adapters/http/index.js';
import { planFromDataVolume, DataVolumeSchema, type ImportObjects } from '../../src/copy/datavolume.js';
import { isTransient, zeroRuns } from '../../src/copy/engine.js';
import { CopyError, formatBytes, parseSize } from '../../src/copy/errors.js';
import { detectCompression, detectFormat, rechunk } from '../../src/copy/format.js';
import { ProgressMeter, renderProgressLine } from '../../src/copy/progress.js';
import { safeEntryName, walkTar } from '../../src/copy/tar.js';
import { usableSpace } from '../../src/copy/target.js';
import { makeTar } from '../helpers/registry.js';

describe('parseSize', () => {
  it.each([
    ['10Gi', 10 * 2 ** 30],
    ['512Mi', 512 * 2 ** 20],
    ['1G', 1e9],
    ['4096', 4096],
    ['1.5Gi', 1.5 * 2 ** 30],
  ])('%s → %d', (text, bytes) => expect(parseSize(text)).toBe(bytes));
  it.each(['', '10GB', 'ten', '-1Gi'])('rejects %j', (text) => expect(() => parseSize(text)).toThrow(/not a size/));
});

describe('formatBytes', () => {
  it.each([
    [512, '512 B'],
    [1536, '1.50 KiB'],
    [10 * 2 ** 30, '10.0 GiB'],
  ])('%d → %s', (n, s) => expect(formatBytes(n)).toBe(s));
});

describe('usableSpace (CDI: ceil((1-overhead)×size) rounded down to 512)', () => {
  it.each([
    [100 * 2 ** 20, 0.055, 99090432],
    [10 * 2 ** 30, 0.055, 10146860032],
    [10 * 2 ** 30, 0, 10 * 2 ** 30],
  ])('%d with %d overhead → %d', (size, overhead, usable) => {
    expect(usableSpace(size, overhead)).toBe(usable);
    expect(usableSpace(size, overhead) % 512).toBe(0);
  });
});

describe('content sniffing', () => {
  const iso = Buffer.alloc(0x8010);
  iso.write('CD001', 0x8001, 'latin1');
  it.each([
    ['qcow2', Buffer.from('QFI\xfb\0\0\0\x03', 'latin1'), 'qcow2'],
    ['vmdk sparse', Buffer.from('KDMV\x01\0\0\0', 'latin1'), 'vmdk'],
    ['vmdk descriptor', Buffer.from('# Disk DescriptorFile\nversion=1\n'), 'vmdk'],
    ['iso', iso, 'iso'],
    ['zeros', Buffer.alloc(0x9000), 'raw'],
    ['short', Buffer.from('QF'), 'raw'],
  ])('%s', (_name, head, format) => expect(detectFormat(head)).toBe(format));
  it.each([
    [Buffer.from([0x1f, 0x8b, 8, 0]), 'gzip'],
    [Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 4]), 'xz'],
    [Buffer.from('QFI\xfb', 'latin1'), 'none'],
  ])('compression of %j', (head, c) => expect(detectCompression(head)).toBe(c));
});

describe('zeroRuns', () => {
  it('splits a buffer into data and zero runs at 4 KiB granules', () => {
    const buf = Buffer.alloc(5 * 4096);
    buf[4096 + 7] = 1;
    buf[4 * 4096] = 9;
    expect(zeroRuns(buf)).toEqual([
      { offset: 0, length: 4096, zero: true },
      { offset: 4096, length: 4096, zero: false },
      { offset: 8192, length: 8192, zero: true },
      { offset: 16384, length: 4096, zero: false },
    ]);
  });
  it('handles a short tail', () => {
    expect(zeroRuns(Buffer.alloc(5000))).toEqual([{ offset: 0, length: 5000, zero: true }]);
  });
  it('sees data in the middle of a granule whose first and last bytes are zero', () => {
    const buf = Buffer.alloc(3 * 4096);
    buf[4096 + 2048] = 1;
    expect(zeroRuns(buf)).toEqual([
      { offset: 0, length: 4096, zero: true },
      { offset: 4096, length: 4096, zero: false },
      { offset: 8192, length: 4096, zero: true },
    ]);
  });
  it('answers a whole 4 MiB chunk of zeros, or of data, as one run', () => {
    expect(zeroRuns(Buffer.alloc(4 << 20))).toEqual([{ offset: 0, length: 4 << 20, zero: true }]);
    expect(zeroRuns(Buffer.alloc(4 << 20, 7))).toEqual([{ offset: 0, length: 4 << 20, zero: false }]);
  });
});

describe('isTransient', () => {
  it.each([
    [Object.assign(new Error('x'), { code: 'ECONNRESET' }), true],
    [new Error('wrapped', { cause: Object.assign(new Error('y'), { code: 'UND_ERR_SOCKET' }) }), true],
    [new CopyError('SOURCE_UNREACHABLE', 'gone'), true],
    [new CopyError('IMAGE_CORRUPT', 'bad'), false],
    [new CopyError('SOURCE_AUTH_FAILED', '401'), false],
    [new Error('plain'), false],
  ])('%s → %s', (e, transient) => expect(isTransient(e)).toBe(transient));
});

describe('rechunk', () => {
  it('regroups into fixed chunks', async () => {
    const parts = [Buffer.alloc(3, 1), Buffer.alloc(6, 2), Buffer.alloc(2, 3)];
    const out: number[] = [];
    for await (const c of rechunk(Readable.from(parts), 4)) out.push(c.length);
    expect(out).toEqual([4, 4, 3]);
  });
});

describe('progress', () => {
  it('computes rate and ETA over its window and renders a bar', () => {
    let now = 0;
    const m = new ProgressMeter('disk0', 1000, () => now);
    m.phase = 'copying';
    m.snapshot();
    now = 1000;
    m.bytesDone = 250;
    const p = m.snapshot();
    expect(p.rate).toBe(250);
    expect(p.etaSeconds).toBe(3);
    expect(renderProgressLine(p)).toMatch(/^copying\s+\[######-+\]\s+25%/);
  });
});

describe('parseImageRef', () => {
  it.each([
    ['docker://127.0.0.1:5000/disks/fedora:35', { registry: '127.0.0.1:5000', repository: 'disks/fedora', reference: '35' }],
    ['docker://quay.io/kubevirt/fedora-cloud-container-disk-demo', { registry: 'quay.io', repository: 'kubevirt/fedora-cloud-container-disk-demo', reference: 'latest' }],
    ['docker://fedora', { registry: 'registry-1.docker.io', repository: 'library/fedora', reference: 'latest' }],
    ['docker://localhost/x@sha256:abc', { registry: 'localhost', repository: 'x', reference: 'sha256:abc' }],
  ])('%s', (url, ref) => expect(parseImageRef(url)).toEqual(ref));
  it('rejects other schemes', () => expect(() => parseImageRef('https://quay.io/x')).toThrow(/docker:\/\//));
});

describe('parseChallenge', () => {
  it('reads a bearer challenge', () => {
    expect(parseChallenge('Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.example.com/token', service: 'registry.example.com', scope: 'repository:a/b:pull' },
    });
  });
});

describe('Content-Range', () => {
  it.each([
    ['bytes 0-32767/1073741824', 1073741824],
    ['bytes */1000', undefined],
    [undefined, undefined],
  ])('%s → %s', (v, total) => expect(totalFromContentRange(v)).toBe(total));
});

describe('tar entry names', () => {
  it.each([
    ['./disk/disk.img', 'disk/disk.img'],
    ['disk//a.img', 'disk/a.img'],
  ])('%s → %s', (name, safe) => expect(safeEntryName(name, 't')).toBe(safe));
  it.each(['../etc/passwd', 'disk/../../x', '/etc/shadow'])('refuses %s', (name) =>
    expect(() => safeEntryName(name, 't')).toThrow(expect.objectContaining({ code: 'IMAGE_UNSAFE_PATH' })),
  );

  it('walks entries and refuses a symlink out of the root', async () => {
    const names: string[] = [];
    await walkTar(
      Readable.from([
        makeTar([
          { name: 'disk/', type: '5' },
          { name: 'disk/a', data: Buffer.from('hello') },
        ]),
      ]),
      't',
      async (e) => {
        names.push(`${e.type}:${e.name}:${e.size}`);
      },
    );
    expect(names).toEqual(['directory:disk:0', 'file:disk/a:5']);
    await expect(walkTar(Readable.from([makeTar([{ name: 'disk/link', type: '2', link: '../../etc' }])]), 't', async () => undefined)).rejects.toMatchObject({
      code: 'IMAGE_UNSAFE_PATH',
    });
  });
});

describe('multipart upload', () => {
  it('extracts the "file" part across chunk edges', async () => {
    const boundary = 'XyZ123';
    const payload = Buffer.concat([Buffer.alloc(10_000, 7), Buffer.from('\r\n--XyZ12'), Buffer.alloc(5000, 9)]);
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="other"\r\n\r\nvalue\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="disk.img"\r\nContent-Type: application/octet-stream\r\n\r\n`),
      payload,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const pieces: Buffer[] = [];
    for (let i = 0; i < body.length; i += 997) pieces.push(body.subarray(i, i + 997));
    const out: Buffer[] = [];
    for await (const c of multipartFile(Readable.from(pieces), boundary)) out.push(c as Buffer);
    expect(Buffer.concat(out).equals(payload)).toBe(true);
  });
});

describe('DataVolume planning', () => {
  const dv = (spec: unknown) => DataVolumeSchema.parse({ apiVersion: 'cdi.kubevirt.io/v1beta1', kind: 'DataVolume', metadata: { name: 'dv' }, spec });
  const secret = {
    apiVersion: 'v1' as const,
    kind: 'Secret' as const,
    metadata: { name: 'endpoint-secret' },
    data: { accessKeyId: Buffer.from('user').toString('base64'), secretKey: Buffer.from('pass').toString('base64') },
  };
  const cm = {
    apiVersion: 'v1' as const,
    kind: 'ConfigMap' as const,
    metadata: { name: 'tls-certs' },
    data: { 'ca.pem': '-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n' },
  };

  it('resolves secretRef and certConfigMap, volume mode and size (the seed Block example)', () => {
    const objects: ImportObjects = {
      dataVolumes: [
        dv({
          storageClassName: 'local',
          source: { http: { url: 'https://h/x.qcow2', secretRef: 'endpoint-secret', certConfigMap: 'tls-certs' } },
          storage: { volumeMode: 'Block', resources: { requests: { storage: '10Gi' } } },
        }),
      ],
      secrets: [secret],
      configMaps: [cm],
    };
    expect(planFromDataVolume(objects)).toEqual({
      name: 'dv',
      source: { kind: 'http', url: 'https://h/x.qcow2' },
      username: 'user',
      password: 'pass',
      ca: cm.data['ca.pem'],
      size: '10Gi',
      volumeMode: 'Block',
      contentType: 'kubevirt',
      preallocation: false,
    });
  });

  it("treats the seed's empty accessKeyId/secretKey as no credentials", () => {
    const empty = { ...secret, data: { accessKeyId: '', secretKey: '' } };
    const plan = planFromDataVolume({ dataVolumes: [dv({ source: { http: { url: 'http://h/x', secretRef: 'endpoint-secret' } } })], secrets: [empty], configMaps: [] });
    expect(plan.username).toBeUndefined();
    expect(plan.password).toBeUndefined();
  });

  it('names a missing referenced object', () => {
    expect(() => planFromDataVolume({ dataVolumes: [dv({ source: { http: { url: 'http://h/x', secretRef: 'nope' } } })], secrets: [], configMaps: [] })).toThrow(
      /references Secret "nope"/,
    );
  });

  it.each([
    [{ source: { http: { url: 'http://h/x', certConfigMap: 'a', bogus: 1 } } }, 'bogus'],
    [{ source: { http: { url: 'http://h/x' }, registry: { url: 'docker://a/b' } } }, 'exactly one'],
    [{ source: { registry: { url: 'https://a/b' } } }, 'docker://'],
  ])('rejects %j', (spec, message) => {
    const r = DataVolumeSchema.safeParse({ apiVersion: 'cdi.kubevirt.io/v1beta1', kind: 'DataVolume', metadata: { name: 'dv' }, spec });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain(message);
  });
});
