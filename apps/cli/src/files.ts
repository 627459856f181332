// File access with one-line errors: reading inputs (regular files, or pipes read with a cap; never devices,
// sockets or directories; never more bytes than the cap), checking output paths before any work starts (a regular
// file or a new name, never a device, pipe, socket or directory, even with --force), and writing atomically
// (temporary file in the same folder, the output checked again, then rename).
import { promises as fs, constants as fsConstants, type Stats } from 'node:fs';
import { constants as bufferConstants } from 'node:buffer';
import path from 'node:path';
import { invalidValue } from './args.js';
import { InputError } from './errors.js';

const MB = 1024 * 1024;

/** What an input file holds: each kind has its own default size cap. */
export type InputKind = 'model' | 'idx' | 'image';

/**
 * Default caps on the bytes read from one input file. The default model is 1.6 MB, the MNIST training images
 * 47 MB; a digit photo a few MB. `--max-file-size` replaces all three for one run.
 */
export const DEFAULT_MAX_FILE_SIZE: Readonly<Record<InputKind, number>> = {
  model: 512 * MB,
  idx: 256 * MB,
  image: 64 * MB,
};

/** How messages and --help name each kind, plural. */
export const INPUT_KIND_NAME: Readonly<Record<InputKind, string>> = {
  model: 'models',
  idx: 'IDX files',
  image: 'pictures',
};

/** The --max-file-size of this run (undefined: the defaults above). Set once per command, like --threads. */
let maxFileSizeOverride: number | undefined;
export function setMaxFileSize(bytes: number | undefined): void {
  maxFileSizeOverride = bytes;
}

export function maxFileSize(kind: InputKind): number {
  return maxFileSizeOverride ?? DEFAULT_MAX_FILE_SIZE[kind];
}

/** A size for people, in its largest unit: 512 MB, 2 KB when exact, 373.8 MB from 10 MB on, else 1,634,321 bytes. */
export function sizeText(n: number): string {
  for (const [unit, size] of [
    ['GB', 1024 * MB],
    ['MB', MB],
    ['KB', 1024],
  ] as const) {
    if (n < size) continue;
    if (n % size === 0) return `${n / size} ${unit}`;
    if (n >= 10 * MB) return `${(n / size).toFixed(1)} ${unit}`;
    break;
  }
  return `${n.toLocaleString('en-US')} byte${n === 1 ? '' : 's'}`;
}

/** A size as --max-file-size takes it: 1GB, 64MB, 2KB or plain bytes. */
function optionSize(n: number): string {
  for (const [unit, size] of [
    ['GB', 1024 * MB],
    ['MB', MB],
    ['KB', 1024],
  ] as const) {
    if (n >= size && n % size === 0) return `${n / size}${unit}`;
  }
  return String(n);
}

/** `--max-file-size 64MB`: bytes, or a number with K, M or G (KB/MB/GB, binary: 1 MB = 1,048,576 bytes). */
export function fileSize(raw: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?\s*$/i.exec(raw);
  const unit = (m?.[2] ?? 'b').toLowerCase()[0]!;
  const n = m
    ? Math.floor(Number(m[1]) * ({ b: 1, k: 1024, m: MB, g: 1024 * MB } as Record<string, number>)[unit]!)
    : NaN;
  // cap + 1 bytes must fit one buffer
  if (!(n >= 1 && n < bufferConstants.MAX_LENGTH))
    invalidValue(flag, raw, 'a size such as 64MB, 1GB or 1000000, from 1 byte to under 4 GB');
  return n;
}

/** "a character device", "a FIFO", ...: what a non-regular file is, for messages. */
export function fileKind(stat: Stats): string {
  if (stat.isFile()) return 'a regular file';
  if (stat.isDirectory()) return 'a directory';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isSocket()) return 'a socket';
  if (stat.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/** "the 256 MB limit for IDX files; pass --max-file-size with a larger size (e.g. ...) if the file is right" */
export function capText(kind: InputKind): string {
  const cap = maxFileSize(kind);
  const limit =
    maxFileSizeOverride === undefined
      ? `the ${sizeText(cap)} limit for ${INPUT_KIND_NAME[kind]}`
      : `the --max-file-size of ${sizeText(cap)}`;
  return `${limit}; pass --max-file-size with a larger size (e.g. --max-file-size ${optionSize(Math.min(2 * cap, bufferConstants.MAX_LENGTH - 1))}) if the file is right`;
}

function tooLarge(file: string, what: string, kind: InputKind, pipe: boolean): InputError {
  return new InputError(
    `${what} ${file}: ${pipe ? 'sent more than' : 'is larger than'} ${capText(kind)}`,
    'CLI_TOO_LARGE',
  );
}

/**
 * Reads a whole input file; `what` names its role in the message ("model", "images file"). The file is opened
 * once and its handle checked (fstat, no path race): a regular file is read up to the cap (+1 byte to notice a
 * larger one), a FIFO or pipe (`<(zcat f)`) is read chunk by chunk up to the cap; directories, devices
 * (/dev/zero, /dev/urandom, terminals) and sockets are refused before reading a byte.
 */
export async function readInput(file: string, what: string, kind: InputKind): Promise<Uint8Array> {
  const cap = maxFileSize(kind);
  let handle: fs.FileHandle | undefined;
  try {
    // O_NONBLOCK: opening a FIFO without a writer or a serial device must not hang before the check.
    handle = await fs.open(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK | fsConstants.O_NOCTTY);
    let stat = await handle.stat();
    if (stat.isFIFO()) {
      // Read the pipe blocking: open it again (this waits for a writer) and check it is the same pipe. The first
      // handle stays open until then, so a writer that came already never finds the pipe without a reader.
      const first = stat,
        nonBlocking = handle;
      try {
        handle = await fs.open(file, fsConstants.O_RDONLY | fsConstants.O_NOCTTY);
      } finally {
        await nonBlocking.close();
      }
      stat = await handle.stat();
      if (!stat.isFIFO() || stat.ino !== first.ino || stat.dev !== first.dev) {
        throw new InputError(`${what} ${file}: changed while it was being opened; try again`, 'CLI_UNREADABLE');
      }
    } else if (stat.isDirectory()) {
      throw new InputError(`${what} ${file}: is a directory, expected a file`, 'CLI_IS_DIRECTORY');
    } else if (!stat.isFile()) {
      throw new InputError(
        `${what} ${file}: is ${fileKind(stat)}, not a regular file; pass a file (or a pipe)`,
        'CLI_NOT_REGULAR',
      );
    } else if (stat.size > cap) {
      throw tooLarge(file, what, kind, false);
    }
    return await readCapped(handle, stat.isFile() ? stat.size : 64 * 1024, cap, () =>
      tooLarge(file, what, kind, stat.isFIFO()),
    );
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw await describeFsError(err, file, what);
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Reads until end of file, at most `cap` bytes: the buffer starts at the expected size + 1 and doubles, so a
 * file that grew (or a /proc file that reports size 0) is still read whole, and a longer one is refused.
 */
async function readCapped(
  handle: fs.FileHandle,
  expected: number,
  cap: number,
  refuse: () => InputError,
): Promise<Uint8Array> {
  let buffer = new Uint8Array(Math.min(expected, cap) + 1);
  let total = 0;
  for (;;) {
    if (total === buffer.length) {
      if (total > cap) throw refuse();
      const bigger = new Uint8Array(Math.min(buffer.length * 2, cap + 1));
      bigger.set(buffer);
      buffer = bigger;
    }
    const { bytesRead } = await handle.read(buffer, total, buffer.length - total, null);
    if (bytesRead === 0) break;
    total += bytesRead;
  }
  if (total > cap) throw refuse();
  return buffer.subarray(0, total);
}

/** One-line InputError for a failed open/read/stat of `file` (Node's ENOENT & co). */
export async function describeFsError(err: unknown, file: string, what: string): Promise<unknown> {
  const code = (err as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT':
      return new InputError(`${what} ${file}: no such file; check the path`, 'CLI_NOT_FOUND');
    case 'EISDIR':
      return new InputError(`${what} ${file}: is a directory, expected a file`, 'CLI_IS_DIRECTORY');
    case 'EACCES':
    case 'EPERM':
      return new InputError(`${what} ${file}: permission denied; check the file's permissions`, 'CLI_UNREADABLE');
    case 'ENOTDIR':
      return new InputError(`${what} ${file}: a part of the path is not a directory`, 'CLI_NOT_FOUND');
    case 'ENXIO':
    case 'ENODEV': {
      // open() of a Unix socket (or of a device with no driver) fails before any fstat.
      const stat = await fs.stat(file).catch(() => undefined);
      return new InputError(
        `${what} ${file}: is ${stat ? fileKind(stat) : 'not a regular file'}, not a regular file; pass a file (or a pipe)`,
        'CLI_NOT_REGULAR',
      );
    }
    default:
      if (code) return new InputError(`${what} ${file}: cannot be read (${code})`, 'CLI_UNREADABLE');
      return err;
  }
}

/**
 * What is at an output path now: nothing, a regular file (or a symbolic link to one, or a dangling link: a rename
 * replaces the link itself), or something that must never be written over: a directory, device, FIFO or socket,
 * directly or through a symbolic link. Uses lstat, then stat for links.
 */
async function outputState(file: string): Promise<{ exists: false } | { exists: true; refuse?: InputError }> {
  let stat: Stats;
  try {
    stat = await fs.lstat(file);
  } catch {
    return { exists: false };
  }
  let shown = stat,
    via = '';
  if (stat.isSymbolicLink()) {
    const target = await fs.stat(file).catch(() => undefined);
    if (!target) return { exists: true }; // dangling link: the rename replaces the link
    shown = target;
    via = ' (through a symbolic link)';
  }
  if (shown.isFile()) return { exists: true };
  if (shown.isDirectory()) {
    return {
      exists: true,
      refuse: new InputError(
        `output ${file} is a directory${via}; pass a file name such as ${path.join(file, 'model.pth')}`,
        'CLI_IS_DIRECTORY',
      ),
    };
  }
  return {
    exists: true,
    refuse: new InputError(
      `output ${file} is ${fileKind(shown)}${via}, not a regular file, so it is never replaced (not even with --force); choose another --out`,
      'CLI_NOT_REGULAR',
    ),
  };
}

/**
 * Checks, before any work, that `file` can be written: a new name or a regular file (never a directory, device,
 * FIFO or socket, nor a link to one), its folder exists and is writable, and it does not exist yet unless `force`.
 */
export async function checkOutputFile(file: string, force: boolean): Promise<void> {
  const state = await outputState(file);
  if (state.exists && state.refuse) throw state.refuse;
  if (state.exists && !force)
    throw new InputError(
      `output ${file} already exists; pass --force to overwrite it or --out to choose another file`,
      'CLI_EXISTS',
    );
  const dir = path.dirname(path.resolve(file));
  try {
    const d = await fs.stat(dir);
    if (!d.isDirectory()) throw new Error('not a directory');
    await fs.access(dir, fsConstants.W_OK);
  } catch {
    throw new InputError(
      `output folder ${dir} does not exist or is not writable; create it or choose another --out`,
      'CLI_UNWRITABLE',
    );
  }
}

/**
 * Writes through `.<name>.<pid>.tmp` in the same folder then renames, so a reader never sees half a file. Right
 * before the rename the output is checked again (it may have become a device, FIFO or directory meanwhile).
 */
export async function writeAtomic(file: string, bytes: Uint8Array, force: boolean): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    await fs.writeFile(tmp, bytes, { flag: 'wx' });
    const state = await outputState(file);
    if (state.exists && state.refuse) throw state.refuse;
    if (state.exists && !force)
      throw new InputError(`output ${file} appeared while working; pass --force to overwrite it`, 'CLI_EXISTS');
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new InputError(`cannot write ${file} (${code}); check the folder and free space`, 'CLI_UNWRITABLE');
  }
}

/** Creates the output folder for figures; refuses a path that is an existing file (or device, FIFO, ...). */
export async function ensureOutputDir(dir: string): Promise<void> {
  let stat: Stats | undefined;
  try {
    stat = await fs.stat(dir);
  } catch {
    stat = undefined;
  }
  if (stat && !stat.isDirectory())
    throw new InputError(
      `output ${dir} is ${stat.isFile() ? 'a file' : fileKind(stat)}, not a folder; pass --out with a folder name`,
      'CLI_NOT_DIRECTORY',
    );
  try {
    await fs.mkdir(dir, { recursive: true });
    await fs.access(dir, fsConstants.W_OK);
  } catch (err) {
    throw new InputError(
      `cannot create output folder ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); choose another --out`,
      'CLI_UNWRITABLE',
    );
  }
}
