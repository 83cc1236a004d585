// Command-line mistakes: each one is a named usage error (exit 2), never INTERNAL.
import { join } from 'node:path';
import type { HostileCase } from '../harness.js';

export const cliCases: HostileCase[] = [
  {
    id: 'cli.import-no-source',
    item: '9',
    what: 'import with neither --url nor -f nor --upload',
    setup: ({ target }) => ({ args: ['import', '--target', target] }),
    expect: { code: 'USAGE', exit: 2, stderr: /exactly one of --url/ },
  },
  {
    id: 'cli.dv-unknown-field',
    item: '9',
    what: 'a DataVolume with a misspelt field',
    setup: async ({ inputs, target }) => {
      const { writeFileSync } = await import('node:fs');
      const dv = join(inputs, 'dv.yaml');
      writeFileSync(
        dv,
        'apiVersion: cdi.kubevirt.io/v1beta1\nkind: DataVolume\nmetadata:\n  name: dv\nspec:\n  source:\n    http:\n      url: "http://127.0.0.1:1/x.img"\n      certConfigMapp: tls\n',
      );
      return { args: ['import', '-f', dv, '--target', target] };
    },
    expect: { code: 'CONFIG_INVALID', exit: 2, stderr: /dv\.yaml:9:/ },
  },
];
