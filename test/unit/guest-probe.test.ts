import { describe, expect, it } from 'vitest';
import { filesystemCandidates, osFromRelease, parseOsRelease, sectioned } from '../../src/convert/guest-probe.js';

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
  const batch = sectioned([
    { key: 'a', commands: [['list-devices']] },
    { key: '0 fstab', commands: [['-is-file', '/etc/fstab']] },
    { key: '1 fstab', commands: [['-is-file', '/etc/fstab']] },
    { key: 'file', commands: [['-pread', '/etc/hostname', '4096', '0']] },
  ]);
  const mark = (batch.commands[0]![1] ?? '').replace(/a$/, '');

  it('puts an echo of a marker before each group and after the last', () => {
    expect(mark).toMatch(/^==v2v-[0-9a-f]{12}== $/);
    expect(batch.commands.filter(([c]) => c === 'echo').map(([, text]) => text)).toEqual(['a', '0 fstab', '1 fstab', 'file', ''].map((k) => `${mark}${k}`));
    expect(batch.commands.filter(([c]) => c !== 'echo')).toEqual([
      ['list-devices'],
      ['-is-file', '/etc/fstab'],
      ['-is-file', '/etc/fstab'],
      ['-pread', '/etc/hostname', '4096', '0'],
    ]);
  });

  it('gives each group exactly what was printed, an empty group and a missing last newline included', () => {
    const output = `noise\n${mark}a\n/dev/sda\n/dev/sdb\n${mark}0 fstab\n${mark}1 fstab\ntrue\n${mark}file\nno newline${mark}\n`;
    const out = batch.split(output);
    expect([...out.keys()]).toEqual(['a', '0 fstab', '1 fstab', 'file']);
    expect(out.get('a')).toBe('/dev/sda\n/dev/sdb\n');
    expect(out.get('0 fstab')).toBe('');
    expect(out.get('1 fstab')).toBe('true\n');
    expect(out.get('file')).toBe('no newline');
  });

  it('a file that looks like a marker of another batch is content', () => {
    const other = sectioned([{ key: 'x', commands: [] }]).commands[0]![1]!;
    expect(batch.split(`${mark}file\n${other}\n${mark}`).get('file')).toBe(`${other}\n`);
  });
});
