import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import koffi, { type TypeObject } from 'koffi';
import { describe, expect, it } from 'vitest';
import { layouts, vixCode, VixDiskLibError } from '../../native/vixdisklib.js';
import { REPO } from '../helpers/peers.js';

// The koffi declarations must lay the structs out exactly as C does (the
// header the fake shares with vixDiskLib.h): gcc prints sizeof/offsetof, koffi
// must agree field by field.
describe('VixDiskLib struct layouts: koffi vs gcc', () => {
  const fields: Record<string, { type: TypeObject; c: string; members: Record<string, string> }> = {
    VixDiskLibConnectParams: {
      type: layouts.ConnectParamsType,
      c: 'VixDiskLibConnectParams',
      members: {
        vmxSpec: 'vmxSpec',
        serverName: 'serverName',
        thumbPrint: 'thumbPrint',
        privateUse: 'privateUse',
        credType: 'credType',
        creds: 'creds',
        port: 'port',
        nfcHostPort: 'nfcHostPort',
        privateUse2: 'privateUse2',
        reserved: 'reserved',
        reserved2: 'reserved2',
        spec: 'spec',
        specType: 'specType',
      },
    },
    VixDiskLibInfo: {
      type: layouts.InfoType,
      c: 'VixDiskLibInfo',
      members: {
        biosGeo: 'biosGeo',
        physGeo: 'physGeo',
        capacity: 'capacity',
        adapterType: 'adapterType',
        numLinks: 'numLinks',
        parentFileNameHint: 'parentFileNameHint',
        uuid: 'uuid',
        logicalSectorSize: 'logicalSectorSize',
        physicalSectorSize: 'physicalSectorSize',
      },
    },
    VixDiskLibBlock: { type: layouts.BlockType, c: 'VixDiskLibBlock', members: { offset: 'offset', length: 'length' } },
  };

  it('matches sizeof and every offsetof', () => {
    const dir = mkdtempSync(join(tmpdir(), 'v2v-layout-'));
    const lines: string[] = [];
    for (const [name, f] of Object.entries(fields)) {
      lines.push(`printf("${name} %zu\\n", sizeof(${f.c}));`);
      for (const [js, c] of Object.entries(f.members)) lines.push(`printf("${name}.${js} %zu\\n", offsetof(${f.c}, ${c}));`);
    }
    lines.push('printf("VixDiskLibBlockList.blocks %zu\\n", offsetof(VixDiskLibBlockList, blocks));');
    writeFileSync(join(dir, 'layout.c'), `#include <stddef.h>\n#include <stdio.h>\n#include "vixdisklib-types.h"\nint main(void) {\n${lines.join('\n')}\nreturn 0;\n}\n`);
    execFileSync('gcc', ['-I', `${REPO}native/fake-vddk`, '-o', join(dir, 'layout'), join(dir, 'layout.c')]);
    const c = new Map(
      execFileSync(join(dir, 'layout'))
        .toString()
        .trim()
        .split('\n')
        .map((l) => l.split(' ') as [string, string]),
    );
    for (const [name, f] of Object.entries(fields)) {
      expect(f.type.size, `sizeof ${name}`).toBe(Number(c.get(name)));
      for (const js of Object.keys(f.members)) expect(koffi.offsetof(f.type, js), `${name}.${js}`).toBe(Number(c.get(`${name}.${js}`)));
    }
    expect(koffi.offsetof(koffi.struct({ n: 'uint32_t', b: layouts.BlockType }), 'b')).toBe(Number(c.get('VixDiskLibBlockList.blocks')));
  });
});

describe('VixError', () => {
  it.each([
    [3014, 3014],
    [0x1_0000_0bc6n, 3014],
    [25000, 25000],
  ])('vixCode(%s) = %i (the low 16 bits)', (err, code) => {
    expect(vixCode(err)).toBe(code);
  });

  it('names the code and keeps VDDK text', () => {
    const e = new VixDiskLibError('VixDiskLib_ConnectEx', 3014, 'Insufficient permissions in the host operating system');
    expect(e.codeName).toBe('VIX_E_HOST_USER_PERMISSIONS');
    expect(e.message).toBe('VixDiskLib_ConnectEx: Insufficient permissions in the host operating system (VIX_E_HOST_USER_PERMISSIONS 3014)');
  });
});
