// Options shared by several commands (--help, --verbose, --max-file-size, --threads) and their --help lines.
import { MAX_AUTO_THREADS, MAX_THREADS } from '@mnist/core-wasm';
import { invalidValue, type OptionSpecs } from '../args.js';
import { DEFAULT_MAX_FILE_SIZE, INPUT_KIND_NAME, fileSize, sizeText, type InputKind } from '../files.js';

export const COMMON_OPTIONS: OptionSpecs = {
  help: { type: 'boolean', short: 'h' },
  verbose: { type: 'boolean' },
};

export const COMMON_HELP: Record<string, string> = {
  help: 'show this help',
  verbose: 'print stack traces of errors',
};

/** `--max-file-size SIZE`: every command that reads files takes it (main.ts applies it before the command runs). */
export const FILE_OPTIONS: OptionSpecs = {
  'max-file-size': { type: 'string', metavar: 'SIZE', parse: fileSize },
};

/** The --help line of --max-file-size, naming the defaults of the kinds of file this command reads. */
export function fileHelp(...kinds: InputKind[]): Record<string, string> {
  const defaults = kinds.map((k) => `${INPUT_KIND_NAME[k]} ${sizeText(DEFAULT_MAX_FILE_SIZE[k])}`).join(', ');
  return { 'max-file-size': `refuse input files larger than this, e.g. 2GB (default: ${defaults})` };
}

/** `--threads N|auto`: how many threads the WASM engine runs on (commands that run a network). */
export function threadCount(raw: string, flag: string): number | 'auto' {
  if (raw === 'auto') return 'auto';
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_THREADS)
    invalidValue(flag, raw, `auto or a whole number from 1 to ${MAX_THREADS}`);
  return Number(raw);
}

export const ENGINE_OPTIONS: OptionSpecs = {
  threads: { type: 'string', metavar: 'N|auto', parse: threadCount },
};

export const ENGINE_HELP: Record<string, string> = {
  threads: `threads for the WASM engine (default auto: one per core, at most ${MAX_AUTO_THREADS}; results are the same bits for any count)`,
};
