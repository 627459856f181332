// Unit tests of the zip layer: CRC-32 against node:zlib, bounded inflate, and our writer read back by Python's zipfile.
import { crc32 as zlibCrc, deflateRawSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { crc32, inflateBounded, readZip, readEntry, writeZip } from '../src/zip.js';
import { PthError } from '../src/index.js';

describe('crc32', () => {
  test('matches node:zlib for every length and alignment up to 100 bytes, and a 1 MB buffer', () => {
    const buf = new Uint8Array(1 << 20);
    for (let i = 0; i < buf.length; i++) buf[i] = (i * 2654435761) >>> 24;
    for (let off = 0; off < 8; off++)
      for (let len = 0; len <= 100; len++)
        expect(crc32(buf.subarray(off, off + len))).toBe(zlibCrc(buf.subarray(off, off + len)));
    expect(crc32(buf)).toBe(zlibCrc(buf));
  });
});

describe('inflateBounded', () => {
  const data = new Uint8Array(100_000).map((_, i) => i % 251);
  const raw = new Uint8Array(deflateRawSync(data));
  test('inflates exactly the declared size', () => {
    expect(inflateBounded(raw, data.length, 'x')).toEqual(data);
  });
  test('stops one byte past a size that is too small (zip bomb)', () => {
    expect(() => inflateBounded(raw, 1000, 'x')).toThrow(/inflates past its declared 1000 bytes/);
  });
  test('a size too large or a cut stream is an error', () => {
    expect(() => inflateBounded(raw, data.length + 5, 'x')).toThrow(PthError);
    expect(() => inflateBounded(raw.subarray(0, raw.length >> 1), data.length, 'x')).toThrow(PthError);
  });
});

describe('writeZip', () => {
  test('round-trips through readZip with 64-byte aligned data', () => {
    const files = [
      { name: 'a/data.pkl', data: new Uint8Array([1, 2, 3]) },
      { name: 'a/data/0', data: new Uint8Array(1000).fill(7) },
    ];
    const zip = readZip(writeZip(files));
    for (const f of files) {
      const e = zip.entries.get(f.name)!;
      const got = readEntry(zip, e);
      expect(got).toEqual(f.data);
      expect(got.byteOffset % 64).toBe(0);
    }
  });
});
