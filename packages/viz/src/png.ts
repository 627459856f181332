// A small PNG writer (8-bit indexed colour) and base64, so pixel tiles become <image href="data:image/png;base64,...">
// identically in the browser and in Node. Deflate (and its Adler-32) is pako's; the chunk CRC-32 is the table below.

import { deflate } from 'pako';

const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

// CRC-32 (ISO 3309, as PNG chunks use it), table-driven: pako computes one for gzip but does not export it.
const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

/** CRC-32 of bytes[start, end). */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export interface IndexedImage {
  width: number;
  height: number;
  /** width*height palette indices, row-major. */
  indices: Uint8Array;
  /** RGB triples, at most 256 entries. */
  palette: Uint8Array;
  /** Optional alpha per palette entry (tRNS); missing entries are opaque. */
  alpha?: Uint8Array;
}

/** Encodes an 8-bit indexed-colour PNG (colour type 3, no interlace, filter 0 on every row). */
export function encodeIndexedPng(image: IndexedImage): Uint8Array {
  const { width, height, indices, palette, alpha } = image;
  if (!(width > 0 && height > 0 && Number.isInteger(width) && Number.isInteger(height)))
    throw new RangeError(`invalid PNG size: ${width}x${height}`);
  if (indices.length !== width * height)
    throw new RangeError(`invalid PNG pixels: expected ${width * height} indices, got ${indices.length}`);
  if (palette.length % 3 !== 0 || palette.length === 0 || palette.length > 768)
    throw new RangeError(`invalid PNG palette: ${palette.length} bytes (expected 3 per entry, 1..256 entries)`);
  const raw = new Uint8Array((width + 1) * height);
  for (let y = 0; y < height; y++) raw.set(indices.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = 3; // colour type: indexed
  const compressed = deflate(raw); // zlib stream, pako's defaults (level 6; per block the smallest of stored, fixed, dynamic)
  const chunks: [string, Uint8Array][] = [
    ['IHDR', header],
    ['PLTE', palette],
  ];
  if (alpha) chunks.push(['tRNS', alpha]);
  chunks.push(['IDAT', compressed], ['IEND', new Uint8Array(0)]);
  const out = new Uint8Array(PNG_SIGNATURE.length + chunks.reduce((n, [, data]) => n + 12 + data.length, 0));
  const outView = new DataView(out.buffer);
  out.set(PNG_SIGNATURE);
  let at = PNG_SIGNATURE.length;
  for (const [type, data] of chunks) {
    // length, type, data, CRC-32 of type and data
    outView.setUint32(at, data.length);
    for (let i = 0; i < 4; i++) out[at + 4 + i] = type.charCodeAt(i);
    out.set(data, at + 8);
    outView.setUint32(at + 8 + data.length, crc32(out, at + 4, at + 8 + data.length));
    at += 12 + data.length;
  }
  return out;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

const BASE64_CODES = new Uint8Array(64).map((_, i) => BASE64.charCodeAt(i));

/** Standard base64 with padding (no Buffer or btoa, so it runs anywhere); ASCII bytes decoded in one go. */
export function base64(bytes: Uint8Array): string {
  const n = bytes.length;
  const out = new Uint8Array(Math.ceil(n / 3) * 4);
  let o = 0;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const triple = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out[o++] = BASE64_CODES[triple >> 18];
    out[o++] = BASE64_CODES[(triple >> 12) & 63];
    out[o++] = BASE64_CODES[(triple >> 6) & 63];
    out[o++] = BASE64_CODES[triple & 63];
  }
  if (i < n) {
    const a = bytes[i];
    const b = i + 1 < n ? bytes[i + 1] : 0;
    out[o++] = BASE64_CODES[a >> 2];
    out[o++] = BASE64_CODES[((a & 3) << 4) | (b >> 4)];
    out[o++] = i + 1 < n ? BASE64_CODES[(b & 15) << 2] : 61; // '='
    out[o++] = 61;
  }
  return new TextDecoder().decode(out);
}

export function pngDataUrl(image: IndexedImage): string {
  return `data:image/png;base64,${base64(encodeIndexedPng(image))}`;
}
