// Command-line arguments a careless user types: every numeric flag of every command with values it
// cannot take, and the mistakes commander itself catches (unknown option or command, a missing
// argument, a bad choice). Each is a named USAGE error with a hint, exit 2, before any work starts.
import { join } from 'node:path';
import type { HostileCase, HostileContext } from '../harness.js';

interface NumericFlag {
  name: string;
  /** The command line up to the flag; anything else the command needs is given, so only the flag is wrong. */
  command: (ctx: HostileContext) => string[];
  flag: string;
  bad: string[];
}

const batch = (ctx: HostileContext) => ['batch', join(ctx.inputs, 'plan.yaml'), '--state', join(ctx.target, 'state.json')];
const importUrl = (ctx: HostileContext) => ['import', '--url', 'https://127.0.0.1:1/disk.img', '--target', ctx.target];
const importUpload = (ctx: HostileContext) => ['import', '--upload', '--upload-token-file', ctx.secretPath, '--target', ctx.target];
const pod = (ctx: HostileContext) => ['pod', '--job', join(ctx.inputs, 'job.yaml'), '--termination-log', join(ctx.target, 'termination-log')];

/** Not numbers at all, or numbers `Number()` would take but a user did not mean. */
const NOT_NUMBERS = ['abc', '', ' 4', '4x', '0x10', '1e3', 'Infinity', 'NaN'];

const NUMERIC_FLAGS: NumericFlag[] = [
  // The plan's schema allows 1 to 64; the flag is held to the same range.
  { name: 'batch', command: batch, flag: '--concurrency', bad: [...NOT_NUMBERS, '0', '-1', '65', '1000', '1.5'] },
  { name: 'import', command: importUrl, flag: '--stall-timeout', bad: [...NOT_NUMBERS, '0', '-5', '1.5', '86401'] },
  { name: 'import', command: importUrl, flag: '--filesystem-overhead', bad: [...NOT_NUMBERS, '1', '-0.1', '2'] },
  { name: 'import', command: importUpload, flag: '--listen', bad: ['abc', '127.0.0.1', '127.0.0.1:', '127.0.0.1:abc', '127.0.0.1:-1', '127.0.0.1:65536', '127.0.0.1:1.5'] },
  { name: 'pod', command: pod, flag: '--metrics-port', bad: [...NOT_NUMBERS, '-1', '65536', '1.5'] },
  { name: 'pod', command: pod, flag: '--results-port', bad: [...NOT_NUMBERS, '-1', '65536', '1.5'] },
  { name: 'pod', command: pod, flag: '--linger', bad: [...NOT_NUMBERS, '-1', '1.5', '86401'] },
];

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A readable, id-safe label for a bad value. */
const label = (value: string) => (value === '' ? 'empty' : value.replace(/^ /, 'space-').replace(/[^\w.-]/g, '_'));

const numericCases: HostileCase[] = NUMERIC_FLAGS.flatMap(({ name, command, flag, bad }) =>
  bad.map((value): HostileCase => ({
    id: `args.${name}${flag}.${label(value)}`,
    item: '9',
    what: `${flag} ${JSON.stringify(value)}`,
    // `--flag=value`, so a value that starts with "-" is the flag's, as a user means it.
    setup: (ctx) => ({ args: [...command(ctx), `${flag}=${value}`] }),
    expect: {
      code: 'USAGE',
      exit: 2,
      stderr: new RegExp(`error USAGE: ${escape(flag)} ${escape(JSON.stringify(value))}: expected [^\\n]+\\n\\s+hint: e\\.g\\. ${escape(flag)} \\S`),
    },
  })),
);

/** What commander itself refuses; the hint points at the help of the command the user meant. */
const USAGE_MISTAKES: { name: string; args: string[]; stderr: RegExp }[] = [
  { name: 'unknown-option', args: ['batch', 'plan.yaml', '--bogus'], stderr: /error USAGE: unknown option '--bogus'\n\s+hint: v2v batch --help lists its options/ },
  { name: 'misspelt-option', args: ['batch', 'plan.yaml', '--stat', 'x'], stderr: /error USAGE: unknown option '--stat'\n\s+hint: Did you mean --state\? v2v batch --help/ },
  { name: 'unknown-command', args: ['frobnicate'], stderr: /error USAGE: unknown command 'frobnicate'\n\s+hint: v2v --help lists the commands/ },
  { name: 'no-command', args: [], stderr: /error USAGE: no command given\n\s+hint: v2v --help/ },
  { name: 'missing-argument', args: ['batch'], stderr: /error USAGE: missing required argument 'plan'\n\s+hint: v2v batch --help/ },
  {
    name: 'option-without-value',
    args: ['inventory', '--source', 'x', '--sources'],
    stderr: /error USAGE: option '--sources <file>' argument missing\n\s+hint: v2v inventory --help/,
  },
  { name: 'required-option-missing', args: ['convert', '--sources', 's.yaml'], stderr: /error USAGE: required option '[^']+' not specified\n\s+hint: v2v convert --help/ },
  {
    name: 'bad-choice',
    args: ['inventory', '--sources', 's.yaml', '--source', 'x', '-o', 'xml'],
    stderr: /error USAGE: option '-o, --output <format>' argument 'xml' is invalid[^\n]*\n\s+hint: v2v inventory --help/,
  },
  { name: 'extra-argument', args: ['inventory', 'extra', '--sources', 's.yaml', '--source', 'x'], stderr: /error USAGE: too many arguments[^\n]*\n\s+hint: v2v inventory --help/ },
];

const logLevelCases: HostileCase[] = [
  {
    id: 'args.log-level.flag',
    item: '9',
    what: 'v2v --log-level loud inventory …',
    setup: () => ({ args: ['--log-level', 'loud', 'inventory', '--sources', 's.yaml', '--source', 'x'] }),
    expect: { code: 'USAGE', exit: 2, stderr: /error USAGE: option '--log-level <level>' argument 'loud' is invalid/ },
  },
  {
    id: 'args.log-level.environment',
    item: '9',
    what: 'V2V_LOG_LEVEL=loud',
    setup: () => ({ args: ['inventory', '--sources', 's.yaml', '--source', 'x'], env: { V2V_LOG_LEVEL: 'loud' } }),
    expect: { code: 'USAGE', exit: 2, stderr: /error USAGE: V2V_LOG_LEVEL "loud" is not a log level\n\s+hint: one of trace, / },
  },
];

const usageCases: HostileCase[] = USAGE_MISTAKES.map(({ name, args, stderr }): HostileCase => ({
  id: `args.commander.${name}`,
  item: '11',
  what: `v2v ${args.join(' ')}`,
  setup: () => ({ args }),
  expect: { code: 'USAGE', exit: 2, stderr },
}));

export const cliArgsCases: HostileCase[] = [...numericCases, ...logLevelCases, ...usageCases];
