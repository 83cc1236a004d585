import { V2vError, type ErrorOptions } from '../errors.js';

/**
 * Why a guest conversion failed. Each code is stable: `CONVERSION_FAILED` is the
 * catch-all; the others name a failure virt-v2v itself recognised, so the user
 * gets a specific hint. The message always keeps virt-v2v's own words.
 */
export type ConversionErrorCode =
  | 'CONVERSION_FAILED'
  | 'CONVERSION_GUEST_RUNNING'
  | 'CONVERSION_GUEST_HIBERNATED'
  | 'CONVERSION_NO_ROOT'
  | 'CONVERSION_INSPECTION_FAILED'
  | 'CONVERSION_MULTIBOOT'
  | 'CONVERSION_ENCRYPTED'
  | 'CONVERSION_NO_SPACE'
  | 'CONVERSION_TOOL_MISSING'
  | 'CONVERSION_COMMIT_FAILED'
  | 'CONVERSION_DOMAIN_XML_INVALID'
  | 'NIC_RENAME_FAILED'
  | 'NIC_PLAN_INCONSISTENT'
  | 'BOOT_CHECK_FAILED';

export class ConversionError extends V2vError {
  declare readonly code: ConversionErrorCode;
  constructor(code: ConversionErrorCode, message: string, options: ErrorOptions = {}) {
    super(code, message, options);
  }
}

interface FailureRule {
  code: ConversionErrorCode;
  pattern: RegExp;
  hint: string;
}

// Order matters: the first rule whose pattern occurs in virt-v2v's error wins.
// "No root device found" is a special case of "inspection could not detect".
const RULES: FailureRule[] = [
  {
    code: 'CONVERSION_GUEST_RUNNING',
    pattern: /is running or paused|trying to convert a guest which is running/,
    hint: 'power the source VM off (a clean guest shutdown) and run again; a running guest cannot be converted',
  },
  {
    code: 'CONVERSION_GUEST_HIBERNATED',
    pattern: /Windows Hibernation or Fast Restart is being used/,
    hint: 'boot the guest, disable Fast Startup / hibernation, shut it down fully, then copy and convert again',
  },
  {
    code: 'CONVERSION_NO_ROOT',
    pattern: /No root device found in this operating system image/,
    hint: "the disks hold no operating system virt-v2v can find (blank, data-only or unsupported disk layout); check the VM's boot disk is included",
  },
  {
    code: 'CONVERSION_MULTIBOOT',
    pattern: /multi-boot operating system|Dual- or multi-boot/i,
    hint: 'the guest has several operating systems; choose the root filesystem explicitly',
  },
  {
    code: 'CONVERSION_ENCRYPTED',
    pattern: /could not find key to open LUKS|cannot open LUKS|clevis_luks_unlock/,
    hint: 'the guest disks are encrypted; provide the LUKS keys or convert an unencrypted copy',
  },
  {
    code: 'CONVERSION_NO_SPACE',
    pattern: /insufficient free space|not enough free space|No space left on device/,
    hint: 'free space in the guest filesystems (virt-v2v needs room for a new initramfs) or in the conversion temporary directory',
  },
  {
    code: 'CONVERSION_INSPECTION_FAILED',
    pattern: /inspection could not detect the source guest|inspect_os|inspection/i,
    hint: 'libguestfs could not recognise the guest operating system; check the disks are complete and the OS is supported',
  },
];

/** The lines virt-v2v printed after `<tool>: error:` (its own message, continuation lines included). */
export function extractToolError(output: string): string | undefined {
  const lines = output.split(/\r?\n/);
  const start = lines.findIndex((l) => /^virt-v2v(-in-place|-inspector)?: error: /.test(l));
  if (start < 0) return undefined;
  const message: string[] = [lines[start]!.replace(/^virt-v2v(-in-place|-inspector)?: error: /, '')];
  for (const line of lines.slice(start + 1)) {
    // virt-v2v ends its error with advice on -v -x; that advice is about reporting bugs, not about the guest.
    if (/^If reporting bugs, run virt-v2v/.test(line)) break;
    message.push(line);
  }
  return message.join('\n').trim();
}

/**
 * Maps a failed virt-v2v run to a named error. `exit` is the exit code or the
 * signal that ended it; `output` its merged stdout/stderr.
 */
export function classifyConversionFailure(tool: string, exit: { code: number | null; signal: NodeJS.Signals | null }, output: string): ConversionError {
  const toolMessage = extractToolError(output);
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${String(exit.code)}`;
  const tail = output.trim().split(/\r?\n/).slice(-20).join('\n');
  const details = { tool, exitCode: exit.code, signal: exit.signal, outputTail: tail };
  if (toolMessage) {
    const rule = RULES.find((r) => r.pattern.test(toolMessage));
    const message = `${tool} ${how}: ${toolMessage}`;
    if (rule) return new ConversionError(rule.code, message, { hint: rule.hint, details });
    return new ConversionError('CONVERSION_FAILED', message, {
      hint: 'see the virt-v2v message above; rerun with V2V_LOG_LEVEL=debug for its full output',
      details,
    });
  }
  const lastLine = output.trim().split(/\r?\n/).at(-1) ?? '';
  return new ConversionError('CONVERSION_FAILED', `${tool} ${how}${lastLine ? ` (last output: ${lastLine})` : ''}`, {
    hint: 'the conversion was interrupted or crashed; the source disks were left unchanged, run again',
    details,
  });
}
