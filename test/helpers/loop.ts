// Loop devices as Block targets. Missing loop support fails the test (never skips).
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, rmSync, writeSync } from 'node:fs';

export interface LoopDevice {
  device: string;
  file: string;
  /** Overwrites the whole device with a byte pattern: old data an import must not leave behind. */
  scribble(byte?: number): void;
  detach(): void;
}

export function createLoopDevice(file: string, size: number): LoopDevice {
  if (!existsSync('/dev/loop-control')) throw new Error('/dev/loop-control is missing: Block target tests need loop devices (run as root with the loop module)');
  const fd = openSync(file, 'w');
  closeSync(fd);
  execFileSync('truncate', ['-s', String(size), file]);
  const device = execFileSync('losetup', ['-f', '--show', file]).toString().trim();
  return {
    device,
    file,
    scribble(byte = 0xab) {
      const buf = Buffer.alloc(1 << 20, byte);
      const dev = openSync(device, 'r+');
      try {
        for (let pos = 0; pos < size; pos += buf.length) writeSync(dev, buf, 0, Math.min(buf.length, size - pos), pos);
      } finally {
        closeSync(dev);
      }
    },
    detach() {
      try {
        execFileSync('losetup', ['-d', device]);
      } finally {
        rmSync(file, { force: true });
      }
    },
  };
}
