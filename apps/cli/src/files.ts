// File access with one-line errors: reading inputs (missing, a directory, unreadable), checking an output
// path before any work starts, and writing atomically (temporary file in the same folder, then rename).
import { promises as fs, constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { InputError } from './errors.js';

/** Reads a whole input file; `what` names its role in the message ("model", "images file"). */
export async function readInput(file: string, what: string): Promise<Uint8Array> {
  try {
    const buf = await fs.readFile(file);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (err) {
    throw describeFsError(err, file, what);
  }
}

export function describeFsError(err: unknown, file: string, what: string): unknown {
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
    default:
      if (code) return new InputError(`${what} ${file}: cannot be read (${code})`, 'CLI_UNREADABLE');
      return err;
  }
}

export async function exists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks, before any work, that `file` can be written: not a directory, its folder exists and is
 * writable, and it does not exist yet unless `force`.
 */
export async function checkOutputFile(file: string, force: boolean): Promise<void> {
  let stat: import('node:fs').Stats | undefined;
  try {
    stat = await fs.stat(file);
  } catch {
    stat = undefined;
  }
  if (stat?.isDirectory()) throw new InputError(`output ${file} is a directory; pass a file name such as ${path.join(file, 'model.pth')}`, 'CLI_IS_DIRECTORY');
  if (stat && !force) throw new InputError(`output ${file} already exists; pass --force to overwrite it or --out to choose another file`, 'CLI_EXISTS');
  const dir = path.dirname(path.resolve(file));
  try {
    const d = await fs.stat(dir);
    if (!d.isDirectory()) throw new Error('not a directory');
    await fs.access(dir, fsConstants.W_OK);
  } catch {
    throw new InputError(`output folder ${dir} does not exist or is not writable; create it or choose another --out`, 'CLI_UNWRITABLE');
  }
}

/** Writes through `<file>.<pid>.tmp` then renames, so a reader never sees half a file. */
export async function writeAtomic(file: string, bytes: Uint8Array, force: boolean): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    await fs.writeFile(tmp, bytes, { flag: 'wx' });
    if (!force && (await exists(file))) throw new InputError(`output ${file} appeared while working; pass --force to overwrite it`, 'CLI_EXISTS');
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new InputError(`cannot write ${file} (${code}); check the folder and free space`, 'CLI_UNWRITABLE');
  }
}

/** Creates the output folder for figures; refuses a path that is an existing file. */
export async function ensureOutputDir(dir: string): Promise<void> {
  let stat: import('node:fs').Stats | undefined;
  try {
    stat = await fs.stat(dir);
  } catch {
    stat = undefined;
  }
  if (stat && !stat.isDirectory()) throw new InputError(`output ${dir} is a file, not a folder; pass --out with a folder name`, 'CLI_NOT_DIRECTORY');
  try {
    await fs.mkdir(dir, { recursive: true });
    await fs.access(dir, fsConstants.W_OK);
  } catch (err) {
    throw new InputError(`cannot create output folder ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); choose another --out`, 'CLI_UNWRITABLE');
  }
}
