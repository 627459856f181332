// Test-only PNG reading: chunk walk with CRC checks (node:zlib's crc32 as the independent reference), inflate with
// node:zlib, and the five scanline filters, so both our encoder's and resvg's PNGs can be read back to pixels.

import { crc32, inflateSync } from 'node:zlib';

export interface DecodedPng {
  width: number;
  height: number;
  colorType: number;
  /** Raw unfiltered samples: 1 byte per pixel (indexed) or 4 (RGBA). */
  data: Uint8Array;
  palette?: Uint8Array;
  alpha?: Uint8Array;
  /** Bytes of zlib data in the IDAT chunks. */
  compressedLength: number;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

export function decodePng(bytes: Uint8Array): DecodedPng {
  SIGNATURE.forEach((b, i) => {
    if (bytes[i] !== b) throw new Error('not a PNG signature');
  });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 8;
  let width = 0,
    height = 0,
    colorType = 0,
    bitDepth = 0;
  let palette: Uint8Array | undefined;
  let alpha: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  for (;;) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    const crc = view.getUint32(offset + 8 + length);
    if (crc32(bytes.subarray(offset + 4, offset + 8 + length)) !== crc) throw new Error(`bad CRC in ${type}`);
    offset += 12 + length;
    if (type === 'IHDR') {
      width = view.getUint32(offset - 12 - length + 8);
      height = view.getUint32(offset - 12 - length + 12);
      bitDepth = data[8];
      colorType = data[9];
    } else if (type === 'PLTE') palette = data.slice();
    else if (type === 'tRNS') alpha = data.slice();
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
  }
  if (bitDepth !== 8) throw new Error(`unsupported bit depth ${bitDepth}`);
  const channels = colorType === 3 ? 1 : colorType === 6 ? 4 : colorType === 2 ? 3 : colorType === 0 ? 1 : 0;
  if (!channels) throw new Error(`unsupported colour type ${colorType}`);
  const compressed = Buffer.concat(idat);
  const raw = new Uint8Array(inflateSync(compressed));
  const stride = width * channels;
  const out = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? out[y * stride + x - channels] : 0;
      const b = y > 0 ? out[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? out[(y - 1) * stride + x - channels] : 0;
      let predictor = 0;
      if (filter === 1) predictor = a;
      else if (filter === 2) predictor = b;
      else if (filter === 3) predictor = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a),
          pb = Math.abs(p - b),
          pc = Math.abs(p - c);
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else if (filter !== 0) throw new Error(`bad filter ${filter}`);
      out[y * stride + x] = (line[x] + predictor) & 255;
    }
  }
  return { width, height, colorType, data: out, palette, alpha, compressedLength: compressed.length };
}

/** RGB of indexed pixel (x, y). */
export function indexedRgb(png: DecodedPng, x: number, y: number): [number, number, number] {
  const i = png.data[y * png.width + x];
  return [png.palette![i * 3], png.palette![i * 3 + 1], png.palette![i * 3 + 2]];
}

export function pngFromDataUrl(href: string): DecodedPng {
  const prefix = 'data:image/png;base64,';
  if (!href.startsWith(prefix)) throw new Error(`not a PNG data URL: ${href.slice(0, 30)}`);
  return decodePng(new Uint8Array(Buffer.from(href.slice(prefix.length), 'base64')));
}
