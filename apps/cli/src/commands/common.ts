// Options every command accepts, softmax in float64 for reporting, and the seeded shuffle used by train.
import { UsageError } from '../errors.js';
import type { OptionSpecs } from '../args.js';
import { DEFAULT_MAX_FILE_SIZE, INPUT_KIND_NAME, fileSize, sizeText, type InputKind } from '../files.js';

export const COMMON_OPTIONS: OptionSpecs = {
  help: { kind: 'flag', short: 'h' },
  verbose: { kind: 'flag' },
};

export const COMMON_HELP: Record<string, string> = {
  help: 'show this help',
  verbose: 'print stack traces of errors',
};

/** `--max-file-size SIZE`: every command that reads files takes it (main.ts applies it before the command runs). */
export const FILE_OPTIONS: OptionSpecs = {
  'max-file-size': { kind: 'value', metavar: 'SIZE', parse: fileSize },
};

/** The --help line of --max-file-size, naming the defaults of the kinds of file this command reads. */
export function fileHelp(...kinds: InputKind[]): Record<string, string> {
  const defaults = kinds.map((k) => `${INPUT_KIND_NAME[k]} ${sizeText(DEFAULT_MAX_FILE_SIZE[k])}`).join(', ');
  return { 'max-file-size': `refuse input files larger than this, e.g. 2GB (default: ${defaults})` };
}

/** `--threads N|auto`: how many threads the WASM engine runs on (commands that run a network). */
export function threadCount(raw: string, flag: string): number | 'auto' {
  if (raw === 'auto') return 'auto';
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 64) {
    throw new UsageError(`invalid ${flag}: "${raw}" (expected auto or a whole number from 1 to 64)`, 'CLI_BAD_VALUE');
  }
  return Number(raw);
}

export const ENGINE_OPTIONS: OptionSpecs = {
  threads: { kind: 'value', metavar: 'N|auto', parse: threadCount },
};

export const ENGINE_HELP: Record<string, string> = {
  threads: 'threads for the WASM engine (default auto: every core; results are the same bits for any count)',
};

/** Row-wise softmax of float32 logits in float64 (max subtracted for stability). */
export function softmaxRow(logits: Float32Array, row: number, classes: number): number[] {
  let max = -Infinity;
  for (let c = 0; c < classes; c++) max = Math.max(max, logits[row * classes + c]!);
  const out = new Array<number>(classes);
  let sum = 0;
  for (let c = 0; c < classes; c++) {
    out[c] = Math.exp(logits[row * classes + c]! - max);
    sum += out[c]!;
  }
  for (let c = 0; c < classes; c++) out[c]! /= sum;
  return out;
}

export function argmaxRow(logits: Float32Array, row: number, classes: number): number {
  let best = 0;
  for (let c = 1; c < classes; c++) if (logits[row * classes + c]! > logits[row * classes + best]!) best = c;
  return best;
}

// The seeded batch order comes from the core, so `--seed` gives the same run as the web app and the bench.
export { seededRandom, shuffle } from '@mnist/core-wasm';
