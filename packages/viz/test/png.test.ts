// The PNG writer against independent references: node:zlib computes CRC-32 and inflates the IDAT data (pako's deflate)
// back to the pixels, Buffer computes base64, and decoded pixels equal the encoded ones.

import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { base64, crc32, encodeIndexedPng } from '../src/png.js';
import { decodePng } from './png-decode.js';
import { mulberry32 } from './seeded.js';

/** Byte equality without vitest's element-by-element diffing (slow on 100 kB arrays). */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function samples(): Record<string, Uint8Array> {
  const random = mulberry32(99);
  return {
    empty: new Uint8Array(0),
    one: new Uint8Array([7]),
    runs: Uint8Array.from({ length: 5000 }, (_, i) => (i % 700 < 650 ? 253 : i & 255)),
    random: Uint8Array.from({ length: 70000 }, () => Math.floor(random() * 256)),
    longRun: new Uint8Array(100000).fill(4),
    pattern: Uint8Array.from({ length: 40000 }, (_, i) => (i * 7) % 29),
  };
}

describe('png encoder', () => {
  it("crc32 equals node:zlib's crc32", () => {
    for (const [name, data] of Object.entries(samples())) expect(crc32(data), name).toBe(zlibCrc32(data));
    expect(crc32(new TextEncoder().encode('IEND'))).toBe(0xae426082);
  });

  it('every image decodes back to its pixels (node:zlib inflates the IDAT stream)', () => {
    for (const [name, data] of Object.entries(samples())) {
      if (data.length === 0) continue; // a PNG has at least one pixel
      const width = data.length % 100 === 0 ? 100 : data.length;
      const png = decodePng(
        encodeIndexedPng({ width, height: data.length / width, indices: data, palette: new Uint8Array(768) }),
      );
      expect(same(png.data, data), name).toBe(true);
    }
  });

  it('compresses runs a lot and stores random pixels with little overhead', () => {
    const { runs, random, longRun } = samples();
    const compressed = (data: Uint8Array) =>
      decodePng(
        encodeIndexedPng({ width: 100, height: data.length / 100, indices: data, palette: new Uint8Array(768) }),
      ).compressedLength;
    expect(compressed(longRun)).toBeLessThan(1000);
    expect(compressed(runs)).toBeLessThan(runs.length / 3);
    expect(compressed(random)).toBeLessThan(random.length * 1.02);
  });

  it("base64 equals Buffer's", () => {
    for (const [name, data] of Object.entries(samples()))
      expect(base64(data), name).toBe(Buffer.from(data).toString('base64'));
  });

  it('an indexed PNG decodes to the same size, palette, transparency and pixels', () => {
    const random = mulberry32(5);
    const width = 37;
    const height = 23;
    const indices = Uint8Array.from({ length: width * height }, () => Math.floor(random() * 4));
    const palette = new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]);
    const alpha = new Uint8Array([255, 255, 0]);
    const png = decodePng(encodeIndexedPng({ width, height, indices, palette, alpha }));
    expect([png.width, png.height, png.colorType]).toEqual([width, height, 3]);
    expect(png.data).toEqual(indices);
    expect(png.palette).toEqual(palette);
    expect(png.alpha).toEqual(alpha);
  });

  it('rejects a wrong pixel count', () => {
    expect(() =>
      encodeIndexedPng({ width: 2, height: 2, indices: new Uint8Array(3), palette: new Uint8Array(3) }),
    ).toThrow('invalid PNG pixels: expected 4 indices, got 3');
  });
});
