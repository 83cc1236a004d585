import type { SourceVm } from '../model.js';

// vm-import-operator's OS mapping (pkg/os/os-mapper-provider.go): guest-agent
// distributions to a template OS prefix, and vSphere guestIds / oVirt os.types to
// the osinfo id that selects a common template (os.template.kubevirt.io/<osinfo>).

export interface OsMap {
  guestos2common: Record<string, string>;
  osinfo2common: Record<string, string>;
}

function each(ids: string[], value: string): Record<string, string> {
  return Object.fromEntries(ids.map((id) => [id, value]));
}

export const DEFAULT_GUESTOS2COMMON: Record<string, string> = {
  'Red Hat Enterprise Linux Server': 'rhel',
  'Red Hat Enterprise Linux': 'rhel',
  'CentOS Linux': 'centos',
  Fedora: 'fedora',
  Ubuntu: 'ubuntu',
  openSUSE: 'opensuse',
};

const debian: Record<string, string> = {};
for (let n = 4; n <= 10; n++) Object.assign(debian, each([`debian${n}_64Guest`, `debian${n}Guest`], `debian${n}`));

export const DEFAULT_OSINFO2COMMON: Record<string, string> = {
  // oVirt os.type
  ...each(['rhel_6_10_plus_ppc64', 'rhel_6_ppc64', 'rhel_6', 'rhel_6x64'], 'rhel6.10'),
  ...each(['rhel_6_9_plus_ppc64'], 'rhel6.9'),
  ...each(['rhel_7_ppc64', 'rhel_7_s390x', 'rhel_7x64'], 'rhel7.7'),
  ...each(['rhel_8x64'], 'rhel8.1'),
  ...each(['sles_11_ppc64', 'sles_11', 'sles_12_s390x'], 'opensuse15.0'),
  ...each(['ubuntu_12_04', 'ubuntu_12_10', 'ubuntu_13_04', 'ubuntu_13_10', 'ubuntu_14_04_ppc64', 'ubuntu_14_04', 'ubuntu_16_04_s390x'], 'ubuntu18.04'),
  ...each(['windows_10', 'windows_10x64', 'windows_2003', 'windows_2003x64', 'windows_7', 'windows_7x64', 'windows_8', 'windows_8x64', 'windows_xp'], 'win10'),
  ...each(['windows_2008R2x64', 'windows_2008', 'windows_2008x64'], 'win2k8'),
  ...each(['windows_2012R2x64', 'windows_2012x64'], 'win2k12r2'),
  ...each(['windows_2016x64'], 'win2k16'),
  ...each(['windows_2019x64'], 'win2k19'),
  // vSphere guestId
  ...each(['centos6_64Guest', 'centos6Guest'], 'centos6.10'),
  ...each(['centos64Guest'], 'centos5.11'),
  ...each(['centos7_64Guest', 'centos7Guest'], 'centos7.0'),
  ...each(['centos8_64Guest', 'centos8Guest'], 'centos8'),
  ...debian,
  ...each(['fedora64Guest', 'fedoraGuest'], 'fedora-unknown'),
  ...each(['genericLinuxGuest'], 'linux'),
  ...each(['rhel2Guest'], 'rhel2.1.7'),
  ...each(['rhel3_64Guest', 'rhel3Guest'], 'rhel3.9'),
  ...each(['rhel4_64Guest', 'rhel4Guest'], 'rhel4.9'),
  ...each(['rhel5_64Guest', 'rhel5Guest'], 'rhel5.11'),
  ...each(['rhel6_64Guest', 'rhel6Guest'], 'rhel6.10'),
  ...each(['rhel7_64Guest', 'rhel7Guest'], 'rhel7.7'),
  ...each(['rhel8_64Guest'], 'rhel8.1'),
  ...each(['ubuntu64Guest', 'ubuntuGuest'], 'ubuntu18.04'),
  ...each(['win2000AdvServGuest', 'win2000ProGuest', 'win2000ServGuest'], 'win2k'),
  ...each(['windows7Guest'], 'win7'),
  ...each(['windows7Server64Guest'], 'win2k8r2'),
  ...each(['windows8_64Guest', 'windows8Guest'], 'win8'),
  ...each(['windows8Server64Guest'], 'win2k12r2'),
  ...each(['windows9_64Guest', 'windows9Guest'], 'win10'),
  ...each(['windows9Server64Guest'], 'win2k19'),
};

export const DEFAULT_OS_MAP: OsMap = { guestos2common: DEFAULT_GUESTOS2COMMON, osinfo2common: DEFAULT_OSINFO2COMMON };

/** A user's OS ConfigMap overrides the defaults key by key, as vm-import-operator merges them. */
export function overrideOsMap(base: OsMap, user: Partial<OsMap>): OsMap {
  return {
    guestos2common: { ...base.guestos2common, ...user.guestos2common },
    osinfo2common: { ...base.osinfo2common, ...user.osinfo2common },
  };
}

export interface OsResolution {
  osinfo: string;
  /** Which step of the resolution order gave the answer. */
  via: 'guest-agent' | 'osinfo2common' | 'name-fallback';
}

function majorMinor(version: string | undefined): string | undefined {
  return version?.match(/^(\d+(?:\.\d+)?)/)?.[1];
}

/**
 * vm-import-operator's resolution order. oVirt: the guest agent's distribution
 * (through guestos2common) plus its version; else os.type through
 * osinfo2common; else `linux`/`rhel` → rhel8.2, `win` → win10. vSphere: the
 * guestId through osinfo2common; else the guest's full name → rhel8.1 or win10.
 * Undefined when nothing matches (no template; the VM is created without one).
 */
export function resolveOs(vm: SourceVm, map: OsMap = DEFAULT_OS_MAP): OsResolution | undefined {
  const fromTable = map.osinfo2common[vm.os.sourceId];
  if (vm.source.type === 'ovirt') {
    const agent = vm.source.guestAgent;
    const prefix = agent?.distribution !== undefined ? map.guestos2common[agent.distribution] : undefined;
    const version = majorMinor(agent?.version);
    if (prefix !== undefined && version !== undefined) return { osinfo: `${prefix}${version}`, via: 'guest-agent' };
    if (fromTable !== undefined) return { osinfo: fromTable, via: 'osinfo2common' };
    const id = vm.os.sourceId.toLowerCase();
    if (/linux|rhel/.test(id)) return { osinfo: 'rhel8.2', via: 'name-fallback' };
    if (/win/.test(id)) return { osinfo: 'win10', via: 'name-fallback' };
    return undefined;
  }
  if (fromTable !== undefined) return { osinfo: fromTable, via: 'osinfo2common' };
  const name = vm.os.name.toLowerCase();
  if (/red hat|rhel|linux/.test(name)) return { osinfo: 'rhel8.1', via: 'name-fallback' };
  if (/windows/.test(name)) return { osinfo: 'win10', via: 'name-fallback' };
  return undefined;
}

/** The labels by which the seed's common templates are selected. */
export function templateLabels(osinfo: string, choice: { flavor?: string; workload?: string } = {}): Record<string, string> {
  return {
    [`os.template.kubevirt.io/${osinfo}`]: 'true',
    [`workload.template.kubevirt.io/${choice.workload ?? 'server'}`]: 'true',
    [`flavor.template.kubevirt.io/${choice.flavor ?? 'medium'}`]: 'true',
  };
}
