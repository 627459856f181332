// Users' own digit pictures: PNG or JPEG recognised by their magic bytes (not the extension), their headers checked
// against pixel and decoded-size bounds, decoded with pngjs / jpeg-js into RGBA, then turned into the 28x28
// MNIST-style input by @mnist/loader/data.
import pngjs from 'pngjs';
import jpeg from 'jpeg-js';
import { preprocessImage } from '@mnist/loader/data';
import { InputError, fileError } from './errors.js';
import { readInput, sizeText } from './files.js';

/**
 * Bounds checked on the picture's own header (PNG IHDR, JPEG SOF) before any decoding: a digit needs a few
 * hundred pixels a side, a 12 MP phone photo fits. Pixels alone are not enough: 49 MP of 16-bit RGBA is 392 MB of
 * samples (1.3 GB and 20 s in pngjs), so the decoded samples (width x height x channels x bytes per sample) are
 * bounded too. pngjs inflates at most the size the IHDR implies, jpeg-js gets the same pixel cap.
 */
export const MAX_PIXELS = 16_000_000;
export const MAX_DECODED_BYTES = 64 * 1024 * 1024;
/** jpeg-js's own bound on its working memory (coefficients ~4 bytes per sample, plus the RGBA output). */
const JPEG_MAX_MEMORY_MB = 512;

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

/** What a picture's header says, read before decoding. */
export interface PictureHeader {
  width: number;
  height: number;
  channels: number;
  bitsPerSample: number;
  /** "16-bit RGBA PNG", "8-bit 3-channel JPEG" */
  description: string;
}

const PNG_COLOR_TYPES: Record<number, { channels: number; name: string; depths: number[] }> = {
  0: { channels: 1, name: 'grey', depths: [1, 2, 4, 8, 16] },
  2: { channels: 3, name: 'RGB', depths: [8, 16] },
  3: { channels: 1, name: 'palette', depths: [1, 2, 4, 8] },
  4: { channels: 2, name: 'grey+alpha', depths: [8, 16] },
  6: { channels: 4, name: 'RGBA', depths: [8, 16] },
};

function undecodable(file: string, format: string, reason: string): InputError {
  return new InputError(
    `image ${file}: cannot decode this ${format} file (${reason}); re-save it as PNG or JPEG`,
    'IMAGE_UNDECODABLE',
  );
}

/** The IHDR chunk, which a PNG must start with: width, height, bit depth, colour type. */
export function readPngHeader(bytes: Uint8Array, file: string): PictureHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (
    bytes.length < 8 + 8 + 13 ||
    view.getUint32(8) !== 13 ||
    String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR'
  ) {
    throw undecodable(file, 'PNG', 'no IHDR header after the signature');
  }
  const width = view.getUint32(16),
    height = view.getUint32(20),
    depth = bytes[24]!,
    colorType = bytes[25]!;
  const color = PNG_COLOR_TYPES[colorType];
  if (!color?.depths.includes(depth))
    throw undecodable(file, 'PNG', `bit depth ${depth} with colour type ${colorType} is not valid`);
  if (width === 0 || height === 0) throw undecodable(file, 'PNG', `it is ${width}x${height} pixels`);
  return {
    width,
    height,
    channels: color.channels,
    bitsPerSample: depth,
    description: `${depth}-bit ${color.name} PNG`,
  };
}

/** The first frame header (SOF0..SOF15) of a JPEG, found by walking the marker segments up to the image data. */
export function readJpegHeader(bytes: Uint8Array, file: string): PictureHeader {
  let i = 2; // after SOI
  while (i + 1 < bytes.length) {
    if (bytes[i] !== 0xff) throw undecodable(file, 'JPEG', `no marker at byte ${i}`);
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i++;
      continue;
    } // fill byte
    if (marker === 0x01 || marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    } // no length
    if (marker === 0xd9 || marker === 0xda) break; // end of image, start of scan: no frame header came first
    if (i + 4 > bytes.length) break;
    const length = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    if (length < 2) throw undecodable(file, 'JPEG', `segment length ${length} at byte ${i}`);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (i + 10 > bytes.length) break;
      const precision = bytes[i + 4]!;
      const height = (bytes[i + 5]! << 8) | bytes[i + 6]!;
      const width = (bytes[i + 7]! << 8) | bytes[i + 8]!;
      const channels = bytes[i + 9]!;
      if (width === 0 || height === 0)
        throw undecodable(file, 'JPEG', `the frame header says ${width}x${height} pixels`);
      if (channels === 0 || precision === 0)
        throw undecodable(file, 'JPEG', `the frame header says ${channels} components of ${precision} bits`);
      return {
        width,
        height,
        channels,
        bitsPerSample: precision,
        description: `${precision}-bit ${channels}-channel JPEG`,
      };
    }
    i += 2 + length;
  }
  throw undecodable(file, 'JPEG', 'no frame header (SOF) before the image data');
}

/** Bytes of decoded samples a header implies, as decoders store them: 9-16 bits in 2 bytes, 1-4 bits packed in rows. */
export function decodedBytes(h: PictureHeader): number {
  if (h.bitsPerSample >= 8) return h.width * h.height * h.channels * Math.ceil(h.bitsPerSample / 8);
  return Math.ceil((h.width * h.channels * h.bitsPerSample) / 8) * h.height;
}

function checkBudget(h: PictureHeader, file: string): void {
  const pixels = h.width * h.height,
    samples = decodedBytes(h);
  if (pixels <= MAX_PIXELS && samples <= MAX_DECODED_BYTES) return;
  const mp = (n: number) => `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)} megapixels`;
  throw new InputError(
    `image ${file}: ${h.width}x${h.height} ${h.description} is ${mp(pixels)} and decodes to ${sizeText(samples)}; pictures are limited to ${mp(MAX_PIXELS)} and ${sizeText(MAX_DECODED_BYTES)} of decoded samples: scale it down (a digit needs a few hundred pixels a side)`,
    'IMAGE_TOO_LARGE',
  );
}

/**
 * Decodes PNG or JPEG bytes to RGBA; anything else is an InputError naming what it looks like. The header is
 * read and checked against MAX_PIXELS and MAX_DECODED_BYTES first, so a hostile picture costs no decoding.
 */
export function decodePicture(bytes: Uint8Array, file: string): Picture {
  const format = sniffFormat(bytes);
  if (format !== 'png' && format !== 'jpeg') {
    const what = format ? `a ${format} image` : bytes.length === 0 ? 'empty' : 'not a PNG or JPEG image';
    throw new InputError(`image ${file}: ${what}; convert it to PNG or JPEG`, 'IMAGE_UNSUPPORTED');
  }
  checkBudget(format === 'png' ? readPngHeader(bytes, file) : readJpegHeader(bytes, file), file);
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    if (format === 'png') {
      const png = pngjs.PNG.sync.read(buffer);
      return {
        width: png.width,
        height: png.height,
        format,
        rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength),
      };
    }
    const img = jpeg.decode(buffer, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: MAX_PIXELS / 1e6,
      maxMemoryUsageInMB: JPEG_MAX_MEMORY_MB,
    });
    return { width: img.width, height: img.height, format, rgba: img.data };
  } catch (err) {
    const reason = String((err as Error)?.message ?? err).split('\n')[0]!;
    throw undecodable(file, format.toUpperCase(), reason);
  }
}

/** Reads, decodes and preprocesses one picture into the 28x28 network input. */
export async function loadDigitImage(file: string): Promise<{ picture: Picture; input: Float32Array }> {
  const picture = decodePicture(await readInput(file, 'image', 'image'), file);
  try {
    return { picture, input: preprocessImage(picture.rgba, picture.width, picture.height) };
  } catch (err) {
    throw fileError(`image ${file}`, err);
  }
}
