// Command options: each command declares its specs; Node's util.parseArgs parses them strictly, and the value
// validators here turn nonsense (--lr -1, --epochs 0, --limit abc) into UsageErrors (exit 2) with a one-line message.
import { parseArgs as parseArgv, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.js';
import { commandLine } from './invocation.js';

export interface OptionSpec<T = unknown> {
  /** As in util.parseArgs: 'boolean' is a flag, 'string' takes one value (`--x v` or `--x=v`). */
  type: 'boolean' | 'string';
  short?: string;
  /** The option may be given several times; values are collected in order. */
  multiple?: boolean;
  /** Converts and validates the raw text; throws UsageError. */
  parse?: (raw: string, flag: string) => T;
  /** Name of the value in --help (`--lr R`). */
  metavar?: string;
  /** Not listed in --help (testing aids). */
  hidden?: boolean;
}

export type OptionSpecs = Record<string, OptionSpec>;

export interface Parsed {
  options: Record<string, unknown>;
  positionals: string[];
}

/**
 * Parses argv against the specs with util.parseArgs (strict: unknown flags, missing values and values on flags
 * are refused), then checks what it does not: an option given twice, and each value through its spec's `parse`.
 * A value may start with '-' (`--lr -1` reaches the validator and gets a clear message). `--` ends options.
 */
export function parseArgs(command: string, argv: string[], specs: OptionSpecs): Parsed {
  const see = `(see ${commandLine(`${command} --help`)})`;
  const args = attachValues(argv, specs);
  let tokens: Token[];
  try {
    tokens = parseArgv({
      args,
      options: parseArgsOptions(specs),
      strict: true,
      allowPositionals: true,
      tokens: true,
    }).tokens;
  } catch (err) {
    throw syntaxError(err, args, specs, see);
  }
  const options: Record<string, unknown> = {};
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') positionals.push(token.value);
    if (token.kind !== 'option') continue;
    const spec = specs[token.name]!;
    const flag = `--${token.name}`;
    const value = spec.type === 'boolean' ? true : spec.parse ? spec.parse(token.value!, flag) : token.value;
    if (spec.multiple) {
      const list = (options[token.name] as unknown[] | undefined) ?? [];
      if (Array.isArray(value)) list.push(...value);
      else list.push(value);
      options[token.name] = list;
    } else {
      if (Object.hasOwn(options, token.name)) throw new UsageError(`${flag} given twice ${see}`);
      options[token.name] = value;
    }
  }
  return { options, positionals };
}

type Token = NonNullable<ReturnType<typeof parseArgv>['tokens']>[number];

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

function parseArgsOptions(specs: OptionSpecs): ParseArgsOptionsConfig {
  const options: ParseArgsOptionsConfig = {};
  // parseArgs refuses keys set to undefined: copy only what the spec has.
  for (const [name, { type, short, multiple }] of Object.entries(specs))
    options[name] = { type, ...(short && { short }), ...(multiple && { multiple }) };
  return options;
}

/**
 * `--lr -1` as `--lr=-1`: strict parseArgs refuses a separate value that starts with '-' as ambiguous, but a
 * value option always takes the next word here (so a negative number gets "invalid --lr", not "needs a value").
 */
function attachValues(argv: string[], specs: OptionSpecs): string[] {
  const shorts = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) if (spec.short) shorts.set(`-${spec.short}`, name);
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return [...out, ...argv.slice(i)];
    const name = arg.startsWith('--') ? arg.slice(2) : shorts.get(arg);
    if (name !== undefined && Object.hasOwn(specs, name) && specs[name]!.type === 'string' && i + 1 < argv.length) {
      out.push(`--${name}=${argv[++i]!}`);
    } else {
      out.push(arg);
    }
  }
  return out;
}

/**
 * parseArgs' error as our one-line UsageError. Its messages are Node's (several lines, wording not ours), so the
 * offending word is found again in the tokens of a lenient parse of the same arguments.
 */
function syntaxError(err: unknown, args: string[], specs: OptionSpecs, see: string): unknown {
  const code = (err as { code?: unknown }).code;
  const { tokens } = parseArgv({
    args,
    options: parseArgsOptions(specs),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const options = tokens.filter((t) => t.kind === 'option');
  const specOf = (name: string) => (Object.hasOwn(specs, name) ? specs[name] : undefined);
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const unknown = options.find((t) => !specOf(t.name));
    if (unknown) return new UsageError(`unknown option ${unknown.rawName} ${see}`, 'CLI_UNKNOWN_OPTION');
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    for (const t of options) {
      const spec = specOf(t.name);
      if (spec?.type === 'boolean' && t.value !== undefined)
        return new UsageError(`--${t.name} takes no value, got "${t.value}" ${see}`);
      if (spec?.type === 'string' && t.value === undefined)
        return new UsageError(`--${t.name} needs a value ${see}`, 'CLI_MISSING_VALUE');
    }
  }
  // ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL cannot happen: every command takes positionals and says itself which it wants.
  return err;
}

// ---- value validators: each returns the parsed value or throws a UsageError naming the flag ----

/** The one message of a bad value: `invalid --lr: "-1" (expected a number > 0)`. */
export function invalidValue(flag: string, raw: string, want: string): never {
  throw new UsageError(`invalid ${flag}: "${raw}" (expected ${want})`, 'CLI_BAD_VALUE');
}

const INT = /^[+]?\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

export function positiveInt(raw: string, flag: string): number {
  if (!INT.test(raw.trim())) invalidValue(flag, raw, 'a whole number >= 1');
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) invalidValue(flag, raw, 'a whole number >= 1');
  return n;
}

export function nonNegativeInt(raw: string, flag: string): number {
  if (!INT.test(raw.trim())) invalidValue(flag, raw, 'a whole number >= 0');
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) invalidValue(flag, raw, 'a whole number >= 0');
  return n;
}

/** Whole numbers separated by commas, each >= 0: `--index 3,17 --index 42`. */
export function indexList(raw: string, flag: string): number[] {
  return raw.split(',').map((part) => nonNegativeInt(part, flag));
}

/** Layer widths: `512` or `256,128`, each >= 1. */
export function sizeList(raw: string, flag: string): number[] {
  const parts = raw.split(',');
  if (parts.some((p) => !INT.test(p.trim()) || Number(p) < 1 || Number(p) > 65536))
    invalidValue(flag, raw, 'layer widths like 512 or 256,128, each 1..65536');
  return parts.map(Number);
}

export function positiveNumber(raw: string, flag: string): number {
  const n = Number(raw);
  if (!NUMBER.test(raw.trim()) || !Number.isFinite(n) || n <= 0) invalidValue(flag, raw, 'a number > 0');
  return n;
}

/** A number in [0, 1): momentum. */
export function unitInterval(raw: string, flag: string): number {
  const n = Number(raw);
  if (!NUMBER.test(raw.trim()) || !(n >= 0 && n < 1))
    invalidValue(flag, raw, 'a number from 0 up to (not including) 1');
  return n;
}

/** A number >= 0: weight decay. */
export function nonNegativeNumber(raw: string, flag: string): number {
  const n = Number(raw);
  if (!NUMBER.test(raw.trim()) || !Number.isFinite(n) || n < 0) invalidValue(flag, raw, 'a number >= 0');
  return n;
}

/** Probabilities in [0, 1), one or a comma list: dropout per hidden layer. */
export function probabilityList(raw: string, flag: string): number[] {
  return raw.split(',').map((part) => unitInterval(part, flag));
}

/** Two numbers in [0, 1) separated by a comma: Adam's betas. */
export function betaPair(raw: string, flag: string): [number, number] {
  const parts = raw.split(',');
  if (parts.length !== 2) invalidValue(flag, raw, 'two numbers like 0.9,0.999');
  return [unitInterval(parts[0]!, flag), unitInterval(parts[1]!, flag)];
}

export function nonEmpty(raw: string, flag: string): string {
  if (raw === '') invalidValue(flag, raw, 'a path');
  return raw;
}

export function choice<T extends string>(...choices: T[]): (raw: string, flag: string) => T {
  return (raw, flag) => {
    if (!(choices as string[]).includes(raw)) invalidValue(flag, raw, `one of ${choices.join(', ')}`);
    return raw as T;
  };
}

/** The options section of a command's --help, generated from its specs and one-line descriptions. */
export function describeOptions(specs: OptionSpecs, text: Record<string, string>): string {
  const rows: Array<[string, string]> = [];
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.hidden) continue;
    const left = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.type === 'string' ? ` ${spec.metavar ?? 'V'}` : ''}`;
    rows.push([left, text[name] ?? '']);
  }
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return rows.map(([l, r]) => `  ${l.padEnd(width)}${r}`).join('\n');
}
