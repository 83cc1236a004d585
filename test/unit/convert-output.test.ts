import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classifyConversionFailure, extractToolError } from '../../src/convert/errors.js';
import { parseProgressLine, ProgressParser, type ConversionProgress } from '../../src/convert/progress.js';
import { REPO } from '../helpers/peers.js';

const fixture = (name: string): string => readFileSync(`${REPO}test/fixtures/convert/${name}`, 'utf8');

describe('virt-v2v progress', () => {
  it('turns a real virt-v2v-in-place run (this machine, TCG) into phase events', () => {
    const events: ConversionProgress[] = [];
    const parser = new ProgressParser((e) => events.push(e));
    const output = fixture('virt-v2v-in-place.out');
    // Arbitrary chunk boundaries must not change the result.
    for (let i = 0; i < output.length; i += 7) parser.push(output.slice(i, i + 7));
    parser.flush();
    expect(events.filter((e) => e.kind === 'phase').map((e) => e.kind === 'phase' && e.phase)).toEqual([
      'setup',
      'opening',
      'inspecting',
      'checking-space',
      'converting',
      'mapping',
      'closing',
      'other',
      'other',
      'finishing',
    ]);
    expect(events.filter((e) => e.kind === 'warning')).toEqual([{ kind: 'warning', message: 'could not determine a way to update the configuration of Grub2' }]);
    expect(events.at(-1)).toMatchObject({ kind: 'phase', phase: 'finishing', message: 'Finishing off' });
  });

  it.each<[string, ConversionProgress | undefined]>([
    ['[  91.0] Copying disk 2/3', { kind: 'disk', disk: 2, of: 3, elapsedSeconds: 91 }],
    ['[ 101.5] Finishing off', { kind: 'phase', phase: 'finishing', elapsedSeconds: 101.5, message: 'Finishing off' }],
    ['(45.50/100%)', { kind: 'percent', percent: 45.5 }],
    ['█ 37% [***************-----------------------]', { kind: 'percent', percent: 37 }],
    ['\x1b[1;34m[  14.8] Inspecting the source\x1b[0m', { kind: 'phase', phase: 'inspecting', elapsedSeconds: 14.8, message: 'Inspecting the source' }],
    ['virt-v2v: warning: unknown firmware value', { kind: 'warning', message: 'unknown firmware value' }],
    ['virt-v2v-in-place: This guest has virtio drivers installed.', undefined],
    ['the disk is 45% full', undefined],
    ['', undefined],
  ])('%j', (line, event) => {
    expect(parseProgressLine(line)).toEqual(event);
  });

  it('splits progress-bar carriage returns into separate updates', () => {
    const events: ConversionProgress[] = [];
    const parser = new ProgressParser((e) => events.push(e));
    parser.push('(10.00/100%)\r(20.00/100%)\r(3');
    parser.push('0.00/100%)\n');
    expect(events).toEqual([10, 20, 30].map((percent) => ({ kind: 'percent', percent })));
  });
});

describe("virt-v2v failures → named errors keeping virt-v2v's message", () => {
  const exit1 = { code: 1, signal: null };
  const failing = (message: string): string =>
    `[   0.0] Setting up the source: -i libvirtxml /w/domain.xml\n[   1.0] Opening the source\nvirt-v2v-in-place: error: ${message}\n\nIf reporting bugs, run virt-v2v with debugging enabled and include the \ncomplete output:\n\n  virt-v2v -v -x [...]\n`;

  it.each([
    ['libvirt domain ‘vm1’ is running or paused.  It must be shut down in order to perform virt-v2v conversion', 'CONVERSION_GUEST_RUNNING'],
    [
      'filesystem was mounted read-only, even though we asked for it to be mounted read-write.  This usually means that the filesystem was not cleanly unmounted.  Possible causes include trying to convert a guest which is running, or using Windows Hibernation or Fast Restart.',
      'CONVERSION_GUEST_RUNNING',
    ],
    [
      'unable to mount the disk image for writing. This has probably happened because Windows Hibernation or Fast Restart is being used in this guest.',
      'CONVERSION_GUEST_HIBERNATED',
    ],
    [
      'inspection could not detect the source guest (or physical machine).\n\nAssuming that you are running virt-v2v/virt-p2v on a source which is supported (and not, for example, a blank disk), then this should not happen.\n\nNo root device found in this operating system image.',
      'CONVERSION_NO_ROOT',
    ],
    ['inspection could not detect the source guest (or physical machine).\n\nSomething else went wrong.', 'CONVERSION_INSPECTION_FAILED'],
    ['Dual- or multi-boot operating system detected.  Choose the root filesystem', 'CONVERSION_MULTIBOOT'],
    ['could not find key to open LUKS encrypted /dev/sda2.', 'CONVERSION_ENCRYPTED'],
    ['not enough free space for conversion on filesystem ‘/’.  10 bytes free < 20000000 bytes needed', 'CONVERSION_NO_SPACE'],
    ['libguestfs error: command failed: update-initramfs', 'CONVERSION_FAILED'],
  ])('%s → %s', (message, code) => {
    const error = classifyConversionFailure('virt-v2v-in-place', exit1, failing(message));
    expect(error.code).toBe(code);
    expect(error.exitCode).toBe(1);
    expect(error.message).toContain(message.split('\n')[0]);
    expect(error.message).not.toContain('If reporting bugs');
    expect(error.hint).toBeTruthy();
  });

  it('real output from a disk with no OS (this machine) → CONVERSION_NO_ROOT with the whole message', () => {
    const error = classifyConversionFailure('virt-v2v-in-place', exit1, fixture('virt-v2v-in-place-noroot.out'));
    expect(error.code).toBe('CONVERSION_NO_ROOT');
    expect(error.message).toBe(
      'virt-v2v-in-place exited with code 1: inspection could not detect the source guest (or physical machine).\n\nAssuming that you are running virt-v2v/virt-p2v on a source which is supported (and not, for example, a blank disk), then this should not happen.\n\nNo root device found in this operating system image.',
    );
  });

  it('a killed virt-v2v is CONVERSION_FAILED naming the signal and the last output', () => {
    const error = classifyConversionFailure('virt-v2v-in-place', { code: null, signal: 'SIGKILL' }, '[  14.8] Inspecting the source\n');
    expect(error.code).toBe('CONVERSION_FAILED');
    expect(error.message).toBe('virt-v2v-in-place was killed by SIGKILL (last output: [  14.8] Inspecting the source)');
  });

  it('extracts the multi-line error text only', () => {
    expect(extractToolError(failing('first line\nsecond line'))).toBe('first line\nsecond line');
    expect(extractToolError('no error here')).toBeUndefined();
  });
});
