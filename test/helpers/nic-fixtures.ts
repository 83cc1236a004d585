import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Nic } from '../../src/model.js';
import type { GuestFile } from '../../src/convert/nics.js';
import { REPO } from './peers.js';

/** Guest network layouts as the real world writes them: test/fixtures/nics/<layout>/{guest,converted}. */
export const NIC_FIXTURES = `${REPO}test/fixtures/nics`;

/** A fixture tree as the executor reads it: every file under `dir`, by its path in the guest. */
export function guestTree(dir: string): GuestFile[] {
  return (readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[])
    .filter((relative) => statSync(join(dir, relative)).isFile())
    .map((relative) => ({ path: `/${relative}`, content: readFileSync(join(dir, relative), 'utf8') }))
    .sort((a, b) => a.path.localeCompare(b.path));
}

export const nic = (mac: string, pciSlot?: number, guestIps?: string[]): Nic => ({
  mac,
  model: 'vmxnet3',
  network: { name: 'n' },
  ...(pciSlot !== undefined ? { pciSlot } : {}),
  ...(guestIps ? { guestIps } : {}),
});
