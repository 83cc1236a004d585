// Whether libguestfs may use KVM. /dev/kvm can exist and still be unusable: on
// nested hosts without vmx/svm qemu aborts ("failed to set MSR 0x10a") the
// moment libguestfs launches it with -cpu host. TCG is slower but always works.
import { spawn } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import type { AccelerationChoice } from './argv.js';

export interface AccelerationFacts {
  /** V2V_FORCE_TCG: '1'/'true' forces TCG, '0'/'false' forbids forcing it; unset decides from the facts. */
  override: string | undefined;
  kvmDeviceUsable: boolean;
  cpuHasVirtualization: boolean;
  /** Result of launching qemu with KVM for a moment; undefined when not probed. */
  qemuKvmProbe: boolean | undefined;
}

/** The pure decision: KVM only when everything says it works. */
export function chooseAcceleration(facts: AccelerationFacts): AccelerationChoice & { reason: string } {
  const override = facts.override?.trim().toLowerCase();
  if (override === '1' || override === 'true' || override === 'yes') return { forceTcg: true, reason: 'V2V_FORCE_TCG is set' };
  if (override === '0' || override === 'false' || override === 'no') return { forceTcg: false, reason: 'V2V_FORCE_TCG=0' };
  if (!facts.kvmDeviceUsable) return { forceTcg: true, reason: '/dev/kvm is absent or not accessible' };
  if (!facts.cpuHasVirtualization) return { forceTcg: true, reason: 'the CPU has no vmx/svm flag (nested KVM that qemu cannot use)' };
  if (facts.qemuKvmProbe === false) return { forceTcg: true, reason: 'qemu could not start with KVM' };
  return { forceTcg: false, reason: 'KVM is usable' };
}

function kvmDeviceUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function cpuHasVirtualization(): boolean {
  try {
    return /^flags\s*:.*\b(vmx|svm)\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Starts qemu with KVM and `-cpu host` (what libguestfs uses) paused: a broken
 * KVM makes it abort within a second; a working one keeps running until we
 * stop it.
 */
function probeQemuKvm(timeoutMs = 3000): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('qemu-system-x86_64', ['-machine', 'pc,accel=kvm', '-cpu', 'host', '-m', '64', '-nodefaults', '-display', 'none', '-S', '-no-reboot'], { stdio: 'ignore' });
    let settled = false;
    const done = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(ok);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done(true);
    }, timeoutMs);
    child.on('error', () => done(false));
    child.on('exit', () => done(false));
  });
}

let cached: Promise<AccelerationChoice & { reason: string }> | undefined;

/** Decides once per process (the probe costs up to 3 s). */
export function detectAcceleration(env: Readonly<NodeJS.ProcessEnv>): Promise<AccelerationChoice & { reason: string }> {
  cached ??= (async () => {
    const facts: AccelerationFacts = {
      override: env['V2V_FORCE_TCG'],
      kvmDeviceUsable: kvmDeviceUsable(),
      cpuHasVirtualization: cpuHasVirtualization(),
      qemuKvmProbe: undefined,
    };
    const first = chooseAcceleration(facts);
    if (first.forceTcg || facts.override !== undefined) return first;
    return chooseAcceleration({ ...facts, qemuKvmProbe: await probeQemuKvm() });
  })();
  return cached;
}
