// Seeded fuzz of picture decoding (the PNG/JPEG share of the 20,000+ hostile inputs): the committed test
// pictures with mutated chunks (CRCs recomputed, so the mutations reach the header checks and the decoders),
// mutated JPEG markers, cuts and byte flips. Every input must end in a picture or a coded InputError, within 2 s of
// CPU and 256 MB of memory growth per input (measured around each case).
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { seededRandom } from '@mnist/core-wasm';
import { describe, expect, test } from 'vitest';
import { CliError } from '../src/errors.js';
import { decodePicture } from '../src/image.js';
import { FIXTURES } from './helpers.js';

const pictures = readdirSync(FIXTURES)
  .filter((f) => /\.(png|jpe?g)$/.test(f))
  .map((f) => new Uint8Array(readFileSync(path.join(FIXTURES, f))));

interface Chunk {
  type: string;
  data: Uint8Array;
}

function pngChunks(png: Uint8Array): Chunk[] {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const chunks: Chunk[] = [];
  for (let o = 8; o + 12 <= png.length; ) {
    const n = view.getUint32(o);
    chunks.push({ type: String.fromCharCode(...png.subarray(o + 4, o + 8)), data: png.slice(o + 8, o + 8 + n) });
    o += 12 + n;
  }
  return chunks;
}

function pngFrom(chunks: Chunk[]): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])];
  for (const c of chunks) {
    const head = new Uint8Array(8);
    new DataView(head.buffer).setUint32(0, c.data.length);
    head.set(
      [...c.type].map((ch) => ch.charCodeAt(0)),
      4,
    );
    const crc = new Uint8Array(4);
    new DataView(crc.buffer).setUint32(0, crc32(Buffer.concat([head.subarray(4), c.data])));
    parts.push(head, c.data, crc);
  }
  return Buffer.concat(parts);
}

const EDGE = [0, 1, 2, 3, 4, 6, 8, 16, 255, 256, 4000, 65535, 0x7fffffff, 0xffffffff];

function mutate(next: () => number, base: Uint8Array): { kind: string; bytes: Uint8Array } {
  const int = (n: number) => Math.floor(next() * n);
  const isPng = base[0] === 0x89;
  const choice = int(4);
  if (isPng && choice < 2) {
    const chunks = pngChunks(base);
    const c = chunks[int(chunks.length)]!;
    if (c.type === 'IHDR' && choice === 0) {
      // width, height (u32), bit depth, colour type, compression, filter, interlace
      const field = int(7);
      if (field < 2) new DataView(c.data.buffer, c.data.byteOffset).setUint32(4 * field, EDGE[int(EDGE.length)]!);
      else c.data[6 + field] = EDGE[int(7)]!;
      return { kind: `IHDR field ${field}`, bytes: pngFrom(chunks) };
    }
    for (let k = 1 + int(8); k > 0 && c.data.length; k--) c.data[int(c.data.length)] = int(256);
    return { kind: `${c.type} bytes (CRC fixed)`, bytes: pngFrom(chunks) };
  }
  const b = base.slice();
  if (!isPng && choice < 2) {
    // a JPEG segment's fields: the bytes after a marker (lengths, precision, dimensions, component counts)
    const markers: number[] = [];
    for (let i = 0; i + 1 < b.length && markers.length < 64; i++)
      if (b[i] === 0xff && b[i + 1]! >= 0xc0 && b[i + 1]! <= 0xfe) markers.push(i);
    const at = markers[int(markers.length)] ?? 0;
    for (let k = 1 + int(4); k > 0; k--) b[Math.min(b.length - 1, at + 2 + int(10))] = EDGE[int(EDGE.length)]! & 0xff;
    return { kind: 'JPEG segment fields', bytes: b };
  }
  if (choice === 2) return { kind: 'cut', bytes: b.subarray(0, int(b.length)) };
  for (let k = 1 + int(32); k > 0; k--) b[int(b.length)] = int(256);
  return { kind: 'byte flips', bytes: b };
}

describe('picture fuzz', () => {
  test('2,000 seeded mutations of PNG and JPEG pictures: each decodes or is a coded InputError, within budget', () => {
    const next = seededRandom(20261202);
    const outcomes = new Map<string, number>();
    let slowest = 0,
      largest = 0;
    for (let i = 0; i < 2000; i++) {
      const { kind, bytes } = mutate(next, pictures[Math.floor(next() * pictures.length)]!);
      const t0 = process.cpuUsage();
      const m0 = process.memoryUsage();
      let outcome = 'ok';
      try {
        const picture = decodePicture(bytes, 'fuzz.png');
        expect(picture.rgba.length).toBe(picture.width * picture.height * 4);
      } catch (err) {
        if (!(err instanceof CliError))
          throw new Error(`case ${i} (${kind}) threw ${(err as Error)?.name}: ${(err as Error)?.message}`);
        expect(err.message).not.toMatch(/[\x00-\x1f]/);
        outcome = err.code;
      }
      const used = process.cpuUsage(t0),
        m1 = process.memoryUsage();
      slowest = Math.max(slowest, (used.user + used.system) / 1000);
      largest = Math.max(largest, m1.heapUsed + m1.arrayBuffers - m0.heapUsed - m0.arrayBuffers);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    console.log(
      'picture fuzz outcomes:',
      Object.fromEntries(outcomes),
      `slowest ${slowest.toFixed(1)} ms of CPU, largest growth ${(largest / 2 ** 20).toFixed(1)} MiB`,
    );
    expect(slowest).toBeLessThan(2000);
    expect(largest).toBeLessThan(256 * 2 ** 20);
    for (const c of ['ok', 'IMAGE_UNDECODABLE', 'IMAGE_TOO_LARGE']) expect(outcomes.get(c) ?? 0, c).toBeGreaterThan(10);
  }, 600_000);
});
