// IDX files (the format MNIST and Fashion-MNIST ship in): parse images and labels, plain or gzipped, with every
// header field checked against the body (no byte missing, none left over), the image size checked when the caller
// needs one, and the labels checked against the images, so a wrong, empty or truncated file fails with a clear
// DataError that names the file and says what it holds.
import { DataError } from './errors.js';
import { MNIST_CLASSES, MNIST_SIDE } from './digit.js';

/** Magic numbers: 0x00000803 = unsigned bytes, 3 dims (images); 0x00000801 = unsigned bytes, 1 dim (labels). */
const IDX_UBYTE = 0x08;

export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  /** count*rows*cols bytes, row-major, 0 = background, 255 = ink (as MNIST stores them). */
  pixels: Uint8Array;
  /** the name given to the reader (a file path), used in messages */
  name?: string;
}

export interface IdxLabels {
  count: number;
  labels: Uint8Array;
  /** the name given to the reader (a file path), used in messages */
  name?: string;
}

/** True when the bytes start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Inflates a gzip stream with DecompressionStream (Node 18+ and browsers), refusing to
 * produce more than `maxBytes` so a gzip bomb cannot exhaust memory. Plain bytes pass through.
 */
export async function gunzipIfNeeded(bytes: Uint8Array, name = 'file', maxBytes = 256 << 20): Promise<Uint8Array> {
  if (!isGzip(bytes)) return bytes;
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        await reader.cancel();
        throw new DataError(
          'IDX_TOO_LARGE',
          `${name}: inflates to more than ${n(maxBytes)} bytes`,
          'an MNIST-sized IDX file is at most ~50 MB; check the file',
        );
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(
      'IDX_BAD_GZIP',
      `${name}: corrupt gzip data (${(err as Error).message})`,
      'download the file again or gunzip it yourself',
    );
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const n = (v: number) => v.toLocaleString('en-US');

/** What the file holds by its header, for messages: "100 images of 32x32", "10,000 labels". */
function holds(dims: number[]): string {
  return dims.length === 3
    ? `${n(dims[0]!)} image${dims[0] === 1 ? '' : 's'} of ${dims[1]}x${dims[2]}`
    : `${n(dims[0]!)} label${dims[0] === 1 ? '' : 's'}`;
}

function parseIdx(bytes: Uint8Array, name: string, expectDims: number): { dims: number[]; body: Uint8Array } {
  const kind =
    expectDims === 3
      ? 'images file (magic 0x00000803, e.g. t10k-images-idx3-ubyte)'
      : 'labels file (magic 0x00000801, e.g. t10k-labels-idx1-ubyte)';
  if (bytes.length === 0) throw new DataError('IDX_EMPTY', `${name}: is empty (0 bytes)`, `pass an IDX ${kind}`);
  if (bytes.length < 4)
    throw new DataError(
      'IDX_TRUNCATED',
      `${name}: ${bytes.length} bytes is too short for an IDX header`,
      `pass an IDX ${kind}`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const type = (magic >>> 8) & 0xff;
  const dims = magic & 0xff;
  if (magic >>> 16 !== 0 || type !== IDX_UBYTE || dims !== expectDims) {
    const want = expectDims === 3 ? '0x00000803 (images)' : '0x00000801 (labels)';
    throw new DataError(
      'IDX_BAD_MAGIC',
      `${name}: magic number 0x${magic.toString(16).padStart(8, '0')} is not ${want}`,
      expectDims === 3 ? 'pass an images file (…-images-idx3-ubyte)' : 'pass a labels file (…-labels-idx1-ubyte)',
    );
  }
  const headerBytes = 4 + 4 * dims;
  if (bytes.length < headerBytes)
    throw new DataError(
      'IDX_TRUNCATED',
      `${name}: its ${headerBytes}-byte header is cut short after ${bytes.length} bytes`,
      'the file is incomplete; download it again',
    );
  const sizes: number[] = [];
  let total = 1;
  for (let i = 0; i < dims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    sizes.push(d);
    total *= d;
  }
  const have = bytes.length - headerBytes;
  if (have < total) {
    throw new DataError(
      'IDX_TRUNCATED',
      `${name}: holds ${holds(sizes)} by its header (${n(total)} bytes of data), but only ${n(have)} bytes follow`,
      'the file is incomplete; download it again',
    );
  }
  if (have > total) {
    throw new DataError(
      'IDX_BAD_SHAPE',
      `${name}: holds ${holds(sizes)} by its header (${n(total)} bytes of data), but ${n(have)} bytes follow`,
      'the header does not describe the data: the images may have another size; pass an unmodified IDX file',
    );
  }
  if (sizes[0] === 0)
    throw new DataError(
      'IDX_EMPTY',
      `${name}: holds no ${expectDims === 3 ? 'images' : 'labels'} (its header counts 0)`,
      'pass a file with data',
    );
  return { dims: sizes, body: bytes.subarray(headerBytes, headerBytes + total) };
}

/**
 * Parses an images file (magic 0x803). With `shape`, images of another size are refused (IDX_BAD_SHAPE), e.g.
 * `{ rows: MNIST_SIDE, cols: MNIST_SIDE }` for a 784-input network. Rejects gzip bytes: call gunzipIfNeeded first.
 */
export function readIdxImages(
  bytes: Uint8Array,
  name = 'images file',
  shape?: { rows: number; cols: number },
): IdxImages {
  if (isGzip(bytes)) throw new DataError('IDX_BAD_MAGIC', `${name}: is gzipped`, 'inflate it first (gunzipIfNeeded)');
  const { dims, body } = parseIdx(bytes, name, 3);
  const [count, rows, cols] = dims as [number, number, number];
  if (shape && (rows !== shape.rows || cols !== shape.cols)) {
    const mnist = shape.rows === MNIST_SIDE && shape.cols === MNIST_SIDE ? ' MNIST' : '';
    throw new DataError(
      'IDX_BAD_SHAPE',
      `${name}: holds ${holds(dims)}; expected ${shape.rows}x${shape.cols}${mnist} images`,
      `pass ${shape.rows}x${shape.cols} images (resize other data sets first)`,
    );
  }
  return { count, rows, cols, pixels: body, name };
}

/** Parses a labels file (magic 0x801). */
export function readIdxLabels(bytes: Uint8Array, name = 'labels file'): IdxLabels {
  if (isGzip(bytes)) throw new DataError('IDX_BAD_MAGIC', `${name}: is gzipped`, 'inflate it first (gunzipIfNeeded)');
  const { dims, body } = parseIdx(bytes, name, 1);
  return { count: dims[0]!, labels: body, name };
}

/** Checks that images and labels belong together: the same count (IDX_MISMATCH), every label < classes (IDX_BAD_LABEL). */
export function checkDataset(images: IdxImages, labels: IdxLabels, classes = MNIST_CLASSES): void {
  const imagesName = images.name ?? 'the images file',
    labelsName = labels.name ?? 'labels file';
  if (images.count !== labels.count) {
    throw new DataError(
      'IDX_MISMATCH',
      `${labelsName}: holds ${holds([labels.count])} but ${imagesName} holds ${n(images.count)} images`,
      'pass the labels file that belongs to these images',
    );
  }
  for (let i = 0; i < labels.count; i++) {
    if (labels.labels[i]! >= classes) {
      throw new DataError(
        'IDX_BAD_LABEL',
        `${labelsName}: holds label ${labels.labels[i]} at index ${i}; expected labels 0-${classes - 1} (${classes} classes)`,
        `pass a data set whose labels are 0..${classes - 1}`,
      );
    }
  }
}

/**
 * The input normalization a model was trained with: x' = (x - mean) / std on x = pixel / 255 (torchvision's
 * ToTensor then Normalize). A .pth state_dict does not record it: the user says it, or none is used.
 */
export interface Normalization {
  mean: number;
  std: number;
}

/** The usual MNIST normalization (mean and std of the training pixels / 255), as torchvision examples use it. */
export const MNIST_NORMALIZATION: Readonly<Normalization> = Object.freeze({ mean: 0.1307, std: 0.3081 });

/**
 * Normalizes network inputs (pixel / 255) in place: x' = (x - mean) / std, subtract then divide, each step rounded
 * to float32 as torchvision's Normalize computes it on a float32 tensor (so logits match PyTorch's bit for bit).
 */
export function normalizeInput(x: Float32Array, { mean, std }: Normalization): Float32Array {
  const mean32 = Math.fround(mean),
    std32 = Math.fround(std);
  for (let i = 0; i < x.length; i++) x[i] = Math.fround(x[i]! - mean32) / std32;
  return x;
}

/** Bytes 0..255 -> the network's input scale x/255, then (x - mean) / std when the model was trained with a normalization. */
export function toInput(
  pixels: Uint8Array,
  start = 0,
  end = pixels.length,
  normalize?: Normalization | null,
): Float32Array {
  const out = new Float32Array(end - start);
  for (let i = start; i < end; i++) out[i - start] = pixels[i]! / 255;
  return normalize ? normalizeInput(out, normalize) : out;
}
