// A small strict argument parser: every command declares its options; unknown flags, missing values and
// nonsense values (--lr -1, --epochs 0, --limit abc) are UsageErrors (exit 2) with a one-line message.
import { UsageError } from './errors.js';
import { commandLine } from './invocation.js';

export interface OptionSpec<T = unknown> {
  /** 'flag' takes no value; 'value' takes one (`--x v` or `--x=v`). */
  kind: 'flag' | 'value';
  /** Converts and validates the raw text; throws UsageError. */
  parse?: (raw: string, flag: string) => T;
  /** The option may be given several times; values are collected in order. */
  multiple?: boolean;
  /** Name of the value in --help (`--lr R`). */
  metavar?: string;
  /** Not listed in --help (testing aids). */
  hidden?: boolean;
  short?: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

export interface Parsed {
  options: Record<string, unknown>;
  positionals: string[];
}

/**
 * Parses argv against the specs. Options are `--name`, `--name value`, `--name=value`; a value may start
 * with '-' (so `--lr -1` reaches the validator and gets a clear message). `--` ends options.
 */
export function parseArgs(command: string, argv: string[], specs: OptionSpecs): Parsed {
  const options: Record<string, unknown> = {};
  const positionals: string[] = [];
  const shorts = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) if (spec.short) shorts.set(spec.short, name);
  const see = `(see ${commandLine(`${command} --help`)})`;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
    } else {
      name = shorts.get(arg.slice(1));
      if (name === undefined) throw new UsageError(`mnist ${command}: unknown option ${arg} ${see}`, 'CLI_UNKNOWN_OPTION');
    }
    const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
    if (!spec) throw new UsageError(`mnist ${command}: unknown option --${name} ${see}`, 'CLI_UNKNOWN_OPTION');
    const flag = `--${name}`;
    let value: unknown;
    if (spec.kind === 'flag') {
      if (inline !== undefined) throw new UsageError(`mnist ${command}: ${flag} takes no value, got "${inline}" ${see}`);
      value = true;
    } else {
      let raw = inline;
      if (raw === undefined) {
        if (i + 1 >= argv.length) throw new UsageError(`mnist ${command}: ${flag} needs a value ${see}`, 'CLI_MISSING_VALUE');
        raw = argv[++i]!;
      }
      value = spec.parse ? spec.parse(raw, flag) : raw;
    }
    if (spec.multiple) {
      const list = (options[name] as unknown[] | undefined) ?? [];
      if (Array.isArray(value)) list.push(...value);
      else list.push(value);
      options[name] = list;
    } else {
      if (Object.hasOwn(options, name)) throw new UsageError(`mnist ${command}: ${flag} given twice ${see}`);
      options[name] = value;
    }
  }
  return { options, positionals };
}

// ---- value validators: each returns the parsed value or throws a UsageError naming the flag ----

function bad(flag: string, raw: string, want: string): never {
  throw new UsageError(`invalid ${flag}: "${raw}" (expected ${want})`, 'CLI_BAD_VALUE');
}

const INT = /^[+]?\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

export function positiveInt(raw: string, flag: string): number {
  if (!INT.test(raw.trim())) bad(flag, raw, 'a whole number >= 1');
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) bad(flag, raw, 'a whole number >= 1');
  return n;
}

export function nonNegativeInt(raw: string, flag: string): number {
  if (!INT.test(raw.trim())) bad(flag, raw, 'a whole number >= 0');
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) bad(flag, raw, 'a whole number >= 0');
  return n;
}

/** Whole numbers separated by commas, each >= 0: `--index 3,17 --index 42`. */
export function indexList(raw: string, flag: string): number[] {
  return raw.split(',').map((part) => nonNegativeInt(part, flag));
}

/** Layer widths: `512` or `256,128`, each >= 1. */
export function sizeList(raw: string, flag: string): number[] {
  const parts = raw.split(',');
  if (parts.some((p) => !INT.test(p.trim()) || Number(p) < 1 || Number(p) > 65536)) bad(flag, raw, 'layer widths like 512 or 256,128, each 1..65536');
  return parts.map(Number);
}

export function positiveNumber(raw: string, flag: string): number {
  const n = Number(raw);
  if (!NUMBER.test(raw.trim()) || !Number.isFinite(n) || n <= 0) bad(flag, raw, 'a number > 0');
  return n;
}

/** A number in [0, 1): momentum. */
export function unitInterval(raw: string, flag: string): number {
  const n = Number(raw);
  if (!NUMBER.test(raw.trim()) || !(n >= 0 && n < 1)) bad(flag, raw, 'a number from 0 up to (not including) 1');
  return n;
}

export function nonEmpty(raw: string, flag: string): string {
  if (raw === '') bad(flag, raw, 'a path');
  return raw;
}

export function choice<T extends string>(...choices: T[]): (raw: string, flag: string) => T {
  return (raw, flag) => {
    if (!(choices as string[]).includes(raw)) bad(flag, raw, `one of ${choices.join(', ')}`);
    return raw as T;
  };
}

/** The options section of a command's --help, generated from its specs and one-line descriptions. */
export function describeOptions(specs: OptionSpecs, text: Record<string, string>): string {
  const rows: Array<[string, string]> = [];
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.hidden) continue;
    const left = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.kind === 'value' ? ` ${spec.metavar ?? 'V'}` : ''}`;
    rows.push([left, text[name] ?? '']);
  }
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return rows.map(([l, r]) => `  ${l.padEnd(width)}${r}`).join('\n');
}
