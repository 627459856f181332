// Seeded fuzzing: thousands of mutations of valid files (bit flips, truncations, splices, corrupted pickle opcodes,
// corrupted zip headers, and mutated pickles re-zipped with valid CRCs so they reach the VM). Each result must be a
// well-formed state dict or a PthError, and no single case may take long (a hang detector, not a speed test).
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { readPthSync, toMlp, PthError, type PthFile } from '../src/index.js';
import { readZip, readEntry, writeZip } from '../src/zip.js';
import { FIXTURES, bytesOf } from './helpers.js';

const SEEDS = ['zip_f32', 'legacy', 'zip_rezip_deflated', 'zip64', 'zip_zero_local', 'zip_protocol4', 'dtype_float16',
  'ckpt_model_state_dict', 'legacy_shared_storage', 'layout_offset_stride', 'ckpt_net_legacy', 'layout_parameters'];
const bases = SEEDS.map((s) => ({ name: s, bytes: bytesOf(join(FIXTURES, 'good', `${s}.pth`)) }));

function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
  return { next, int: (n: number) => Math.floor(next() * n) };
}

/** Byte ranges worth hitting: for zips, everything but the raw storage records; for legacy files, the pickles. */
function structure(bytes: Uint8Array): [number, number][] {
  try {
    const zip = readZip(bytes);
    const ranges: [number, number][] = [];
    for (const e of zip.entries.values()) {
      const start = e.localHeaderOffset;
      const body = /\/data\/\d+$/.test(e.name) ? 30 + e.name.length + 64 : 30 + e.name.length + 64 + e.compressedSize;
      ranges.push([start, Math.min(bytes.length, start + body)]);
    }
    const cd = Math.min(...[...zip.entries.values()].map((e) => e.localHeaderOffset + e.compressedSize));
    ranges.push([Math.max(cd, bytes.length - 1024), bytes.length]);
    return ranges;
  } catch {
    return [[0, Math.min(bytes.length, 2048)]];
  }
}

const OPCODES = [0x28, 0x2e, 0x30, 0x31, 0x32, 0x46, 0x47, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56,
  0x58, 0x61, 0x62, 0x63, 0x64, 0x65, 0x67, 0x68, 0x69, 0x6a, 0x6c, 0x6f, 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x7d, 0x5d, 0x29,
  0x80, 0x81, 0x82, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98];

function mutate(r: ReturnType<typeof rng>, base: Uint8Array, other: Uint8Array): { kind: string; bytes: Uint8Array } {
  const b = base.slice();
  const kind = r.int(7);
  const ranges = structure(base);
  const inStructure = () => {
    const [s, e] = ranges[r.int(ranges.length)];
    return s + r.int(Math.max(1, e - s));
  };
  switch (kind) {
    case 0: { // bit flips anywhere
      for (let k = 1 + r.int(8); k > 0; k--) { const p = r.int(b.length); b[p] ^= 1 << r.int(8); }
      return { kind: 'bitflip', bytes: b };
    }
    case 1: { // bit flips in headers, pickles and directory
      for (let k = 1 + r.int(4); k > 0; k--) { const p = inStructure(); if (p < b.length) b[p] ^= 1 << r.int(8); }
      return { kind: 'bitflip-structure', bytes: b };
    }
    case 2: // truncation
      return { kind: 'truncate', bytes: base.slice(0, r.int(base.length)) };
    case 3: { // splice a chunk of another file in (insert or overwrite)
      const len = 1 + r.int(256), from = r.int(Math.max(1, other.length - len)), at = r.int(b.length);
      const chunk = other.subarray(from, from + len);
      if (r.int(2)) { b.set(chunk.subarray(0, Math.max(0, b.length - at)), at); return { kind: 'splice-overwrite', bytes: b }; }
      const out = new Uint8Array(b.length + chunk.length);
      out.set(b.subarray(0, at)); out.set(chunk, at); out.set(b.subarray(at), at + chunk.length);
      return { kind: 'splice-insert', bytes: out };
    }
    case 4: { // zip header fields set to extreme values
      const p = inStructure() & ~3;
      const v = [0, 0xffffffff, 0x7fffffff, 0x10000, r.int(2 ** 32)][r.int(5)];
      if (p + 4 <= b.length) new DataView(b.buffer).setUint32(p, v, true);
      return { kind: 'header-field', bytes: b };
    }
    default: { // pickle opcode corruption, re-zipped with valid CRCs so the VM (not the CRC check) sees it
      try {
        const zip = readZip(base);
        const files = [...zip.entries.values()].map((e) => ({ name: e.name, data: readEntry(zip, e).slice() }));
        const pkl = files.find((f) => f.name.endsWith('/data.pkl'))!;
        const d = pkl.data;
        for (let k = 1 + r.int(3); k > 0; k--) {
          const p = r.int(d.length), m = r.int(3);
          if (m === 0) d[p] = OPCODES[r.int(OPCODES.length)];
          else if (m === 1) d[p] = r.int(256);
          else d[p] ^= 1 << r.int(8);
        }
        if (r.int(4) === 0) pkl.data = d.slice(0, r.int(d.length));
        return { kind: 'pickle-rezipped', bytes: writeZip(files) };
      } catch {
        // legacy: the pickles are the first bytes of the file
        for (let k = 1 + r.int(3); k > 0; k--) { const p = r.int(Math.min(b.length, 1500)); b[p] = r.int(2) ? OPCODES[r.int(OPCODES.length)] : r.int(256); }
        return { kind: 'pickle-legacy', bytes: b };
      }
    }
  }
}

function checkWellFormed(f: PthFile) {
  for (const t of f.tensors) {
    expect(t.data).toBeInstanceOf(Float32Array);
    expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
  }
}

describe('fuzz', () => {
  test('4000 seeded mutations: each is a state dict or a PthError, none slow', () => {
    const r = rng(20240601);
    const outcomes = new Map<string, number>();
    let slowest = 0, slowestKind = '';
    for (let i = 0; i < 4000; i++) {
      const base = bases[r.int(bases.length)], other = bases[r.int(bases.length)];
      const { kind, bytes } = mutate(r, base.bytes, other.bytes);
      const t0 = process.cpuUsage(); // CPU time of this process: what the case costs, not how busy the machine is
      let outcome: string;
      try {
        const file = readPthSync(bytes);
        checkWellFormed(file);
        try { toMlp(file); outcome = 'ok'; } catch (e) {
          if (!(e instanceof PthError)) throw e;
          outcome = e.code;
        }
      } catch (e) {
        if (!(e instanceof PthError)) throw new Error(`case ${i} (${kind} of ${base.name}) threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
        expect(e.message).not.toMatch(/\n/);
        // the catch-all in readPth turns a stray TypeError into PTH_CORRUPT: that would be a loader bug
        if (/unexpected failure/.test(e.message)) throw new Error(`case ${i} (${kind} of ${base.name}): ${e.message}`);
        outcome = e.code;
      }
      const used = process.cpuUsage(t0);
      const ms = (used.user + used.system) / 1000;
      if (ms > slowest) { slowest = ms; slowestKind = `${kind} of ${base.name}`; }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    console.log('fuzz outcomes:', Object.fromEntries([...outcomes].sort((a, b) => b[1] - a[1])), `slowest case ${slowest.toFixed(1)} ms of CPU (${slowestKind})`);
    expect(slowest).toBeLessThan(2000);
    // the mutations must reach deep: the VM and the storage checks, not just the first header
    for (const code of ['ok', 'PTH_CORRUPT', 'PTH_TRUNCATED', 'PTH_BAD_PICKLE']) expect(outcomes.get(code) ?? 0, code).toBeGreaterThan(20);
  }, 300_000);
});
