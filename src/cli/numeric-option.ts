import { Option } from 'commander';
import { UsageError } from '../errors.js';

export interface NumberRange {
  min: number;
  max: number;
  /** Whole numbers only. */
  integer?: boolean;
  /** `max` itself is out of range (a fraction below 1). */
  belowMax?: boolean;
  /** A good value, for the hint. */
  example: number;
}

/** `a whole number from 1 to 64`, `a number from 0 up to (not including) 1` */
function describeRange(r: NumberRange): string {
  return `${r.integer ? 'a whole number' : 'a number'} from ${r.min} ${r.belowMax ? `up to (not including) ${r.max}` : `to ${r.max}`}`;
}

/** `raw` as a number in `range`, or undefined. Plain decimal notation only: `Number()` would also take "", " 8", "0x10", "1e3" and "Infinity". */
function inRange(raw: string, range: NumberRange): number | undefined {
  const value = /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(raw) ? Number(raw) : NaN;
  const fits = Number.isFinite(value) && (!range.integer || Number.isInteger(value)) && value >= range.min && (range.belowMax ? value < range.max : value <= range.max);
  return fits ? value : undefined;
}

/** The value of a numeric flag, or a USAGE error that names the flag, what it got and the range. */
export function parseNumberArg(flag: string, raw: string, range: NumberRange): number {
  const value = inRange(raw, range);
  if (value === undefined) {
    throw new UsageError('USAGE', `${flag} ${JSON.stringify(raw)}: expected ${describeRange(range)}`, { hint: `e.g. ${flag} ${range.example}` });
  }
  return value;
}

/** The long name a flag is written with on the command line: `--concurrency` of `--concurrency <n>`. */
function flagName(option: Option): string {
  return option.long ?? option.short ?? option.flags;
}

/**
 * A flag that takes a number in `range`: commander hands the action a number, and a bad value
 * ends the run before the command does anything. A default is used as given.
 */
export function numberOption(flags: string, description: string, range: NumberRange, defaultValue?: number): Option {
  const option = new Option(flags, description);
  option.argParser((raw: string) => parseNumberArg(flagName(option), raw, range));
  return defaultValue === undefined ? option : option.default(defaultValue);
}

/** A TCP port to listen on; 0 lets the system pick one. */
export const PORT: NumberRange = { min: 0, max: 65535, integer: true, example: 8443 };

/** `HOST:PORT` (HOST may be empty), the port as `PORT` above. */
export function hostPortOption(flags: string, description: string, defaultValue: string): Option {
  const option = new Option(flags, description).default(defaultValue);
  option.argParser((raw: string) => {
    const m = /^(.*):([^:]*)$/.exec(raw);
    if (!m || inRange(m[2]!, PORT) === undefined) {
      throw new UsageError('USAGE', `${flagName(option)} ${JSON.stringify(raw)}: expected HOST:PORT with a port from 0 to 65535`, {
        hint: `e.g. ${flagName(option)} ${defaultValue}`,
      });
    }
    return raw;
  });
  return option;
}
