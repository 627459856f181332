// Users' own digit pictures: PNG or JPEG recognised by their magic bytes (not the extension), decoded with
// pngjs / jpeg-js into RGBA, then turned into the 28x28 MNIST-style input by @mnist/loader/data.
import pngjs from 'pngjs';
import jpeg from 'jpeg-js';
import { preprocessImage } from '@mnist/loader/data';
import { InputError, fileError } from './errors.js';
import { readInput } from './files.js';

/** Refuse pictures larger than this before decoding (a 10000x5000 photo is ~200 MB of RGBA). */
const MAX_MEGAPIXELS = 50;

export interface Picture {
  width: number;
  height: number;
  format: 'png' | 'jpeg';
  rgba: Uint8Array;
}

export function sniffFormat(bytes: Uint8Array): 'png' | 'jpeg' | string | undefined {
  const starts = (...sig: number[]) => sig.every((b, i) => bytes[i] === b);
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'png';
  if (starts(0xff, 0xd8, 0xff)) return 'jpeg';
  if (starts(0x47, 0x49, 0x46, 0x38)) return 'GIF';
  if (starts(0x42, 0x4d)) return 'BMP';
  if (starts(0x52, 0x49, 0x46, 0x46) && String.fromCharCode(...bytes.subarray(8, 12)) === 'WEBP') return 'WebP';
  if (starts(0x49, 0x49, 0x2a, 0x00) || starts(0x4d, 0x4d, 0x00, 0x2a)) return 'TIFF';
  if (String.fromCharCode(...bytes.subarray(4, 12)).startsWith('ftyp')) return 'HEIF/AVIF';
  return undefined;
}

/** Decodes PNG or JPEG bytes to RGBA; anything else is an InputError naming what it looks like. */
export function decodePicture(bytes: Uint8Array, file: string): Picture {
  const format = sniffFormat(bytes);
  if (format !== 'png' && format !== 'jpeg') {
    const what = format ? `a ${format} image` : bytes.length === 0 ? 'empty' : 'not a PNG or JPEG image';
    throw new InputError(`image ${file}: ${what}; convert it to PNG or JPEG`, 'IMAGE_UNSUPPORTED');
  }
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    if (format === 'png') {
      if (bytes.length >= 24) {
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        const w = view.getUint32(16, false), h = view.getUint32(20, false);
        if ((w * h) / 1e6 > MAX_MEGAPIXELS) throw new InputError(`image ${file}: ${w}x${h} pixels is too large (max ${MAX_MEGAPIXELS} megapixels); scale it down`, 'IMAGE_TOO_LARGE');
      }
      const png = pngjs.PNG.sync.read(buffer);
      return { width: png.width, height: png.height, format, rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
    }
    const img = jpeg.decode(buffer, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_MEGAPIXELS, maxMemoryUsageInMB: 1024 });
    return { width: img.width, height: img.height, format, rgba: img.data };
  } catch (err) {
    if (err instanceof InputError) throw err;
    const reason = String((err as Error)?.message ?? err).split('\n')[0];
    throw new InputError(`image ${file}: cannot decode this ${format.toUpperCase()} file (${reason}); re-save it as PNG or JPEG`, 'IMAGE_UNDECODABLE');
  }
}

/** Reads, decodes and preprocesses one picture into 784 inputs. */
export async function loadDigitImage(file: string): Promise<{ picture: Picture; input: Float32Array }> {
  const picture = decodePicture(await readInput(file, 'image'), file);
  try {
    return { picture, input: preprocessImage(picture.rgba, picture.width, picture.height) };
  } catch (err) {
    throw fileError(`image ${file}`, err);
  }
}
