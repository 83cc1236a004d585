import { describe, expect, it } from 'vitest';
import { filesystemCandidates, osFromRelease, parseOsRelease, sectionedBatch, splitSections } from '../../src/convert/guest-probe.js';

const DEBIAN_12 = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
ID=debian
`;

const RHEL_8 = `NAME="Red Hat Enterprise Linux"
VERSION="8.6 (Ootpa)"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="8.6"
PRETTY_NAME="Red Hat Enterprise Linux 8.6 (Ootpa)"
# a comment
`;

describe('os-release', () => {
  it.each([
    ['double quotes, escapes', 'NAME="say \\"hi\\" \\$x"', { NAME: 'say "hi" $x' }],
    ['single quotes kept literally', "NAME='a \\b'", { NAME: 'a \\b' }],
    ['bare value', 'ID=ubuntu', { ID: 'ubuntu' }],
    ['comments, blanks and junk ignored', '# c\n\nnot a field\nID=x', { ID: 'x' }],
  ])('%s', (_what, text, fields) => {
    expect(parseOsRelease(text)).toEqual(fields);
  });

  it.each([
    ['Debian 12', DEBIAN_12, { distro: 'debian', majorVersion: 12, minorVersion: 0, osinfo: 'debian12', productName: 'Debian GNU/Linux 12 (bookworm)' }],
    ['RHEL 8.6', RHEL_8, { distro: 'rhel', majorVersion: 8, minorVersion: 6, osinfo: 'rhel8.6', productName: 'Red Hat Enterprise Linux 8.6 (Ootpa)' }],
    ['Ubuntu 22.04', 'ID=ubuntu\nVERSION_ID="22.04"\nNAME="Ubuntu"', { distro: 'ubuntu', majorVersion: 22, minorVersion: 4, osinfo: 'ubuntu22.04', productName: 'Ubuntu' }],
    ['rolling release, no VERSION_ID', 'ID=arch\nNAME="Arch Linux"', { distro: 'arch', majorVersion: 0, minorVersion: 0, osinfo: 'arch' }],
  ])('%s', (_what, release, expected) => {
    expect(osFromRelease('/dev/sda1', release, 'host\n')).toMatchObject({ root: '/dev/sda1', type: 'linux', hostname: 'host', ...expected });
  });

  it('without an ID it names nothing (inspect-os decides)', () => {
    expect(osFromRelease('/dev/sda1', 'NAME=x\n', '')).toBeUndefined();
    expect(osFromRelease('/dev/sda1', '', '')).toBeUndefined();
  });
});

describe('filesystem candidates', () => {
  it.each([
    ['partitions, not the partitioned disk', { devices: ['/dev/sda'], partitions: ['/dev/sda1', '/dev/sda2'], lvs: [], md: [] }, ['/dev/sda1', '/dev/sda2']],
    ['LVs and md arrays', { devices: ['/dev/sda'], partitions: ['/dev/sda1'], lvs: ['/dev/rhel/root'], md: ['/dev/md127'] }, ['/dev/sda1', '/dev/rhel/root', '/dev/md127']],
    ['a whole disk without partitions', { devices: ['/dev/sda', '/dev/sdb'], partitions: ['/dev/sda1'], lvs: [], md: [] }, ['/dev/sda1', '/dev/sdb']],
    ['nothing at all', { devices: [], partitions: [], lvs: [], md: [] }, []],
  ])('%s', (_what, listing, expected) => {
    expect(filesystemCandidates(listing)).toEqual(expected);
  });
});

describe('sectioned output', () => {
  it('tells the outputs apart, empty sections included', () => {
    const batch = sectionedBatch([
      { key: 'a', commands: [['list-devices']] },
      { key: '0 fstab', commands: [['-is-file', '/etc/fstab']] },
    ]);
    expect(batch).toEqual([['echo', '==v2v== a'], ['list-devices'], ['echo', '==v2v== 0 fstab'], ['-is-file', '/etc/fstab']]);
    const out = splitSections('==v2v== a\n/dev/sda\n/dev/sdb\n==v2v== 0 fstab\n==v2v== 1 fstab\ntrue\n');
    expect(out.get('a')).toBe('/dev/sda\n/dev/sdb');
    expect(out.get('0 fstab')).toBe('');
    expect(out.get('1 fstab')?.trim()).toBe('true');
  });
});
