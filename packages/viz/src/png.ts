// A tiny pure-JS PNG encoder (indexed colour, zlib with fixed-Huffman LZ77 or stored blocks) and base64,
// so pixel tiles become <image href="data:image/png;base64,..."> identically in the browser and in Node.

const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

let crcTable: Uint32Array | undefined;

/** CRC-32 (ISO 3309, as PNG chunks use it) of bytes[start, end). */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Adler-32 checksum (the zlib trailer). */
export function adler32(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  // 5552 is the largest block for which b cannot overflow 2^32 before the modulo (zlib's NMAX).
  for (let i = 0; i < bytes.length; ) {
    const end = Math.min(i + 5552, bytes.length);
    for (; i < end; i++) {
      a += bytes[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** Growable byte writer with an LSB-first bit writer, as deflate packs bits. */
class ByteWriter {
  bytes = new Uint8Array(1024);
  length = 0;
  private bitBuffer = 0;
  private bitCount = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
  }
  byte(value: number): void {
    this.reserve(1);
    this.bytes[this.length++] = value & 0xff;
  }
  uint32BE(value: number): void {
    this.byte(value >>> 24);
    this.byte(value >>> 16);
    this.byte(value >>> 8);
    this.byte(value);
  }
  append(data: Uint8Array): void {
    this.reserve(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
  }
  /** Writes `count` bits of `value`, least significant first. */
  bits(value: number, count: number): void {
    this.bitBuffer |= value << this.bitCount;
    this.bitCount += count;
    while (this.bitCount >= 8) {
      this.byte(this.bitBuffer);
      this.bitBuffer >>>= 8;
      this.bitCount -= 8;
    }
  }
  flushBits(): void {
    if (this.bitCount > 0) this.byte(this.bitBuffer);
    this.bitBuffer = 0;
    this.bitCount = 0;
  }
  result(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

/** zlib stream of stored (uncompressed) deflate blocks. */
export function zlibStored(data: Uint8Array): Uint8Array {
  const out = new ByteWriter();
  out.byte(0x78);
  out.byte(0x01);
  let offset = 0;
  do {
    const n = Math.min(65535, data.length - offset);
    const final = offset + n >= data.length;
    out.byte(final ? 1 : 0);
    out.byte(n & 0xff);
    out.byte(n >>> 8);
    out.byte(~n & 0xff);
    out.byte((~n >>> 8) & 0xff);
    out.append(data.subarray(offset, offset + n));
    offset += n;
  } while (offset < data.length);
  out.uint32BE(adler32(data));
  return out.result();
}

// Deflate length codes 257..285: base lengths and extra bits (RFC 1951, 3.2.5).
const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

function reverseBits(code: number, length: number): number {
  let reversed = 0;
  for (let i = 0; i < length; i++) reversed |= ((code >>> i) & 1) << (length - 1 - i);
  return reversed;
}

// Fixed-Huffman literal/length codes (RFC 1951, 3.2.6), bit-reversed once so writing is one bits() call.
const FIXED_CODE = new Uint16Array(288);
const FIXED_LENGTH = new Uint8Array(288);
for (let symbol = 0; symbol < 288; symbol++) {
  const [code, length] =
    symbol < 144 ? [0x30 + symbol, 8] : symbol < 256 ? [0x190 + symbol - 144, 9] : symbol < 280 ? [symbol - 256, 7] : [0xc0 + symbol - 280, 8];
  FIXED_CODE[symbol] = reverseBits(code, length);
  FIXED_LENGTH[symbol] = length;
}

function writeLiteralLength(out: ByteWriter, symbol: number): void {
  out.bits(FIXED_CODE[symbol], FIXED_LENGTH[symbol]);
}

function findIndex(bases: number[], value: number): number {
  let i = bases.length - 1;
  while (bases[i] > value) i--;
  return i;
}

/**
 * zlib stream of one fixed-Huffman deflate block with greedy LZ77 (one hash candidate per 3-byte prefix).
 * Good at the long runs of background and gap pixels in tile grids; random pixels cost ~8.5 bits each.
 */
export function zlibFixed(data: Uint8Array): Uint8Array {
  const out = new ByteWriter();
  out.byte(0x78);
  out.byte(0x01);
  out.bits(1, 1); // BFINAL
  out.bits(1, 2); // BTYPE = 01, fixed Huffman
  const head = new Int32Array(1 << 15).fill(-1);
  const hash = (i: number) => ((data[i] << 10) ^ (data[i + 1] << 5) ^ data[i + 2]) & 0x7fff;
  const n = data.length;
  let i = 0;
  while (i < n) {
    let bestLength = 0;
    let bestDistance = 0;
    if (i + 2 < n) {
      const h = hash(i);
      const candidate = head[h];
      head[h] = i;
      // The previous byte (distance 1) catches runs even when the hash slot holds something else.
      const max = Math.min(258, n - i);
      for (let attempt = 0; attempt < 2; attempt++) {
        const start = attempt === 0 ? candidate : i - 1;
        if (start < 0 || i - start > 32768 || (attempt === 1 && start === candidate)) continue;
        let length = 0;
        while (length < max && data[start + length] === data[i + length]) length++;
        if (length > bestLength) {
          bestLength = length;
          bestDistance = i - start;
        }
      }
    }
    if (bestLength >= 3) {
      const li = findIndex(LENGTH_BASE, bestLength);
      writeLiteralLength(out, 257 + li);
      if (LENGTH_EXTRA[li]) out.bits(bestLength - LENGTH_BASE[li], LENGTH_EXTRA[li]);
      const di = findIndex(DIST_BASE, bestDistance);
      out.bits(reverseBits(di, 5), 5); // fixed 5-bit distance codes, most significant bit first
      if (DIST_EXTRA[di]) out.bits(bestDistance - DIST_BASE[di], DIST_EXTRA[di]);
      // Index the skipped positions so later matches can find them.
      for (let k = i + 1; k < i + bestLength && k + 2 < n; k++) head[hash(k)] = k;
      i += bestLength;
    } else {
      writeLiteralLength(out, data[i]);
      i++;
    }
  }
  writeLiteralLength(out, 256); // end of block
  out.flushBits();
  out.uint32BE(adler32(data));
  return out.result();
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

function writeChunk(out: ByteWriter, type: string, data: Uint8Array): void {
  out.uint32BE(data.length);
  const start = out.length;
  for (let i = 0; i < 4; i++) out.byte(type.charCodeAt(i));
  out.append(data);
  out.uint32BE(crc32(out.bytes, start, out.length));
}

/** Encodes an 8-bit indexed-colour PNG (colour type 3, no interlace, filter 0 on every row). */
export function encodeIndexedPng(image: IndexedImage): Uint8Array {
  const {width, height, indices, palette, alpha} = image;
  if (!(width > 0 && height > 0 && Number.isInteger(width) && Number.isInteger(height)))
    throw new RangeError(`invalid PNG size: ${width}x${height}`);
  if (indices.length !== width * height)
    throw new RangeError(`invalid PNG pixels: expected ${width * height} indices, got ${indices.length}`);
  if (palette.length % 3 !== 0 || palette.length === 0 || palette.length > 768)
    throw new RangeError(`invalid PNG palette: ${palette.length} bytes (expected 3 per entry, 1..256 entries)`);
  const raw = new Uint8Array((width + 1) * height);
  for (let y = 0; y < height; y++) raw.set(indices.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  const fixed = zlibFixed(raw);
  const compressed = fixed.length < raw.length + 16 ? fixed : zlibStored(raw);

  const out = new ByteWriter();
  for (const b of PNG_SIGNATURE) out.byte(b);
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = 3; // colour type: indexed
  writeChunk(out, "IHDR", header);
  writeChunk(out, "PLTE", palette);
  if (alpha) writeChunk(out, "tRNS", alpha);
  writeChunk(out, "IDAT", compressed);
  writeChunk(out, "IEND", new Uint8Array(0));
  return out.result();
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

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
