// Seeded fuzzing, 20,000 inputs in three families: byte-level mutations of valid files (bit flips, truncations,
// splices, extreme header fields, corrupted pickle bytes), opcode-level mutations of data.pkl re-zipped with valid CRCs
// so they reach the VM (amplification gadgets through the memo included), and structural zip mutations (duplicate,
// overlapping, renamed, re-compressed, shifted records). Each input must end in a well-formed result or a PthError,
// and each is measured on its own: CPU time (process.cpuUsage: what the case costs, not how busy the machine is) and
// memory (the read's own accounting, plus the growth of the process heap and array buffers around the case).
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { toMlp, PthError, LIMITS, type PthFile } from '../src/index.js';
import { readWithLimits, type ReadStats } from '../src/read.js';
import { readZip, readEntry, writeZip } from '../src/zip.js';
import { seededRandom } from '@mnist/core-wasm';
import { OP, OPCODES, OP_ARG, encodeOp } from '../src/opcodes.js';
import { FIXTURES, bytesOf } from './helpers.js';
import { buildZip, opcodes, type DirEntry, type OpSpan, type ZipRecord } from './craft.js';

const SEEDS = [
  'zip_f32',
  'legacy',
  'zip_rezip_deflated',
  'zip64',
  'zip_zero_local',
  'zip_protocol4',
  'dtype_float16',
  'ckpt_model_state_dict',
  'legacy_shared_storage',
  'layout_offset_stride',
  'ckpt_net_legacy',
  'layout_parameters',
  'zip_protocol5',
  'ckpt_state_dict_adam',
  'zip_byteorder_big',
  'layout_shared_storage',
];
const bases = SEEDS.map((s) => ({ name: s, bytes: bytesOf(join(FIXTURES, 'good', `${s}.pth`)) }));
/** the records of each zip base, read once */
const records = new Map(
  bases.map((b) => {
    try {
      const zip = readZip(b.bytes);
      return [b.name, [...zip.entries.values()].map((e) => ({ name: e.name, data: readEntry(zip, e).slice() }))];
    } catch {
      return [b.name, null];
    }
  }),
);
const zipBases = bases.filter((b) => records.get(b.name) !== null);

const CPU_MS_PER_CASE = 2000;
const MEMORY_PER_CASE = 256 * 1024 * 1024;

/** The engine's seeded generator (mulberry32, one home in @mnist/core-wasm), with integer and pick helpers. */
function rng(seed: number) {
  const next = seededRandom(seed);
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(a: readonly T[]): T => a[Math.floor(next() * a.length)],
  };
}
type Rng = ReturnType<typeof rng>;
interface Case {
  kind: string;
  bytes: Uint8Array;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------------
// Family 1: bytes of the file

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
const structures = new Map(bases.map((b) => [b.name, structure(b.bytes)]));

function mutateBytes(r: Rng, baseName: string, base: Uint8Array, other: Uint8Array): Case {
  const b = base.slice();
  const kind = r.int(7);
  const ranges = structures.get(baseName)!;
  const inStructure = () => {
    const [s, e] = r.pick(ranges);
    return s + r.int(Math.max(1, e - s));
  };
  switch (kind) {
    case 0: {
      // bit flips anywhere
      for (let k = 1 + r.int(8); k > 0; k--) {
        const p = r.int(b.length);
        b[p] ^= 1 << r.int(8);
      }
      return { kind: 'bitflip', bytes: b };
    }
    case 1: {
      // bit flips in headers, pickles and directory
      for (let k = 1 + r.int(4); k > 0; k--) {
        const p = inStructure();
        if (p < b.length) b[p] ^= 1 << r.int(8);
      }
      return { kind: 'bitflip-structure', bytes: b };
    }
    case 2: // truncation
      return { kind: 'truncate', bytes: base.slice(0, r.int(base.length)) };
    case 3: {
      // splice a chunk of another file in (insert or overwrite)
      const len = 1 + r.int(256),
        from = r.int(Math.max(1, other.length - len)),
        at = r.int(b.length);
      const chunk = other.subarray(from, from + len);
      if (r.int(2)) {
        b.set(chunk.subarray(0, Math.max(0, b.length - at)), at);
        return { kind: 'splice-overwrite', bytes: b };
      }
      return { kind: 'splice-insert', bytes: concat(b.subarray(0, at), chunk, b.subarray(at)) };
    }
    case 4: {
      // zip header fields set to extreme values
      const p = inStructure() & ~3;
      const v = [0, 0xffffffff, 0x7fffffff, 0x10000, r.int(2 ** 32)][r.int(5)];
      if (p + 4 <= b.length) new DataView(b.buffer).setUint32(p, v, true);
      return { kind: 'header-field', bytes: b };
    }
    default: {
      // pickle bytes corrupted, re-zipped with valid CRCs so the VM (not the CRC check) sees it
      const files = records.get(baseName);
      if (files) {
        const copy = files.map((f) => ({ name: f.name, data: f.data }));
        const pkl = copy.find((f) => f.name.endsWith('/data.pkl'))!;
        pkl.data = pkl.data.slice();
        const d = pkl.data;
        for (let k = 1 + r.int(3); k > 0; k--) {
          const p = r.int(d.length),
            m = r.int(3);
          if (m === 0) d[p] = r.pick(OPCODES);
          else if (m === 1) d[p] = r.int(256);
          else d[p] ^= 1 << r.int(8);
        }
        if (r.int(4) === 0) pkl.data = d.slice(0, r.int(d.length));
        return { kind: 'pickle-bytes', bytes: writeZip(copy) };
      }
      // legacy: the pickles are the first bytes of the file
      for (let k = 1 + r.int(3); k > 0; k--) {
        const p = r.int(Math.min(b.length, 1500));
        b[p] = r.int(2) ? r.pick(OPCODES) : r.int(256);
      }
      return { kind: 'pickle-legacy-bytes', bytes: b };
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Family 2: opcodes of the pickle (data.pkl, or the object pickle of a legacy file)

/** Opcodes that reuse, combine or call what is already on the stack or in the memo: where amplification lives. */
const GADGETS: number[][] = [
  [OP.REDUCE],
  [OP.BUILD],
  [OP.SETITEM],
  [OP.SETITEMS],
  [OP.APPEND],
  [OP.APPENDS],
  [OP.TUPLE],
  [OP.TUPLE1],
  [OP.TUPLE2],
  [OP.TUPLE3],
  [OP.MARK],
  [OP.POP],
  [OP.POP_MARK],
  [OP.DUP],
  [OP.STACK_GLOBAL],
  [OP.EMPTY_DICT],
  [OP.EMPTY_LIST],
  [OP.EMPTY_TUPLE],
  [OP.NEWOBJ],
  [OP.DICT],
  [OP.LIST],
  [OP.MEMOIZE],
  [OP.BINPERSID],
  [OP.NONE],
  [OP.STOP],
];

function memoIds(ops: OpSpan[], pkl: Uint8Array): number[] {
  const ids = new Set<number>([0, 1, 2]);
  let memoize = 0;
  for (const o of ops) {
    if (o.op === OP.BINPUT) ids.add(pkl[o.start + 1]);
    else if (o.op === OP.LONG_BINPUT) ids.add(new DataView(pkl.buffer, pkl.byteOffset).getUint32(o.start + 1, true));
    else if (o.op === OP.MEMOIZE) ids.add(memoize++);
  }
  return [...ids];
}

function get(id: number): number[] {
  return encodeOp(id < 256 ? OP.BINGET : OP.LONG_BINGET, id);
}

/** width of the length field that follows each length-prefixed opcode (8-byte lengths: their low word) */
const LENGTH_WIDTH = new Map(
  OPCODES.flatMap((op) => {
    const arg = OP_ARG[op]!;
    return arg.kind === 'prefixed' ? [[op, Math.min(arg.bytes, 4)] as const] : [];
  }),
);

/** index of a random part whose opcode passes `want`, or -1 */
function pickPart(parts: Uint8Array[], r: Rng, want: (op: number) => boolean): number {
  const hits: number[] = [];
  parts.forEach((p, j) => {
    if (p.length && want(p[0])) hits.push(j);
  });
  return hits.length ? r.pick(hits) : -1;
}

const CALLABLES = [
  ['torch', 'Size'],
  ['collections', 'OrderedDict'],
  ['torch', 'device'],
  ['_codecs', 'encode'],
  ['torch._utils', '_rebuild_tensor_v2'],
  ['torch', 'FloatStorage'],
  ['builtins', 'getattr'],
];

/** GLOBAL g; PUT 250; POP; <large value>; PUT 251; POP; then (GET 250, GET 251, [arg,] TUPLE, REDUCE, POP) x many */
function amplifier(r: Rng): Uint8Array {
  const [module, name] = r.pick(CALLABLES);
  const size = r.pick([1000, 10_000, 200_000]);
  const kind = r.int(4);
  let big: Uint8Array;
  if (kind === 0)
    big = concat(Uint8Array.of(OP.MARK), new Uint8Array(size).fill(OP.NONE), Uint8Array.of(OP.TUPLE)); // tuple
  else if (kind === 1) {
    // a list of one memoized pair, repeated
    const gets = new Uint8Array(2 * size);
    for (let k = 0; k < gets.length; k += 2) {
      gets[k] = OP.BINGET;
      gets[k + 1] = 252;
    }
    big = concat(
      Uint8Array.of(OP.SHORT_BINUNICODE, 1, 0x6b, OP.NONE, OP.TUPLE2, OP.BINPUT, 252, OP.POP, OP.MARK),
      gets,
      Uint8Array.of(OP.LIST),
    );
  } else {
    // a str or bytes of `size` bytes
    const n = size * 5;
    big = concat(Uint8Array.from(encodeOp(kind === 2 ? OP.BINUNICODE : OP.BINBYTES, n)), new Uint8Array(n).fill(0x61));
  }
  const head = concat(
    Uint8Array.from(encodeOp(OP.GLOBAL, [module, name])),
    Uint8Array.of(OP.BINPUT, 250, OP.POP),
    big,
    Uint8Array.of(OP.BINPUT, 251, OP.POP),
  );
  // f(big) or f(big, 'latin1')
  const args = r.int(2)
    ? [OP.TUPLE1]
    : [...encodeOp(OP.SHORT_BINUNICODE, 6), ...new TextEncoder().encode('latin1'), OP.TUPLE2];
  const call = Uint8Array.of(OP.BINGET, 250, OP.BINGET, 251, ...args, OP.REDUCE, OP.POP);
  return concat(head, ...new Array<Uint8Array>(1 + r.int(3000)).fill(call));
}

function mutatePickle(r: Rng, pkl: Uint8Array, donor: Uint8Array): { kind: string; bytes: Uint8Array } {
  const ops = opcodes(pkl);
  if (ops.length < 3) return { kind: 'op-none', bytes: pkl };
  const ids = memoIds(ops, pkl);
  const donorOps = opcodes(donor);
  let parts: Uint8Array[] = ops.map((o) => pkl.subarray(o.start, o.end));
  const kinds: string[] = [];
  for (let k = 1 + r.int(3); k > 0 && parts.length > 0; k--) {
    const i = r.int(parts.length);
    const m = r.int(12);
    const part = parts[i];
    if (m === 0) {
      // another opcode, same argument bytes
      const p = part.slice();
      p[0] = r.pick(OPCODES);
      parts[i] = p;
      kinds.push('replace');
    } else if (m === 1) {
      // delete an opcode
      parts.splice(i, 1);
      kinds.push('delete');
    } else if (m === 2) {
      // repeat an opcode
      parts.splice(i, 0, part);
      kinds.push('dup');
    } else if (m === 3) {
      // repeat a run of opcodes many times: memo reuse, repeated calls and container growth
      const len = 1 + r.int(8),
        times = 2 + r.int(r.int(2) ? 50 : 3000);
      const run = parts.slice(i, i + len);
      parts.splice(i, 0, ...Array.from({ length: times }, () => run).flat());
      kinds.push('repeat');
    } else if (m === 4) {
      // a gadget, or a memo read
      parts.splice(i, 0, Uint8Array.from(r.int(2) ? r.pick(GADGETS) : get(r.pick(ids))));
      kinds.push('gadget');
    } else if (m === 5) {
      // call whatever two memo entries hold, many times: the amplification pattern
      const call = Uint8Array.from([
        ...get(r.pick(ids)),
        ...get(r.pick(ids)),
        r.int(3) ? OP.REDUCE : OP.BUILD,
        ...(r.int(2) ? [OP.POP] : []),
      ]);
      parts.splice(i, 0, ...new Array<Uint8Array>(1 + r.int(2000)).fill(call));
      kinds.push('memo-call');
    } else if (m === 6) {
      // a length field (strings, bytes, LONG) set to an edge value
      const j = pickPart(parts, r, (op) => LENGTH_WIDTH.has(op));
      if (j >= 0) {
        const p = parts[j].slice(),
          width = LENGTH_WIDTH.get(p[0])!;
        if (p.length > width) {
          const cur = width === 1 ? p[1] : new DataView(p.buffer).getUint32(1, true);
          const v = r.pick([0, 1, cur + 1, Math.max(0, cur - 1), 0xff, 0x7fffffff, 0xffffffff]);
          if (width === 1) p[1] = v & 0xff;
          else new DataView(p.buffer).setUint32(1, v >>> 0, true);
          parts[j] = p;
        }
      }
      kinds.push('length');
    } else if (m === 7) {
      // an integer argument (sizes, strides, offsets, numels, memo ids) set to an edge value
      const j = pickPart(
        parts,
        r,
        (op) => op === OP.BININT || op === OP.BININT1 || op === OP.BININT2 || op === OP.BINPUT || op === OP.BINGET,
      );
      if (j >= 0) {
        const p = parts[j].slice();
        const v = r.pick([0, 1, 0xff, 0xffff, 0x7fffffff, 0xffffffff, r.int(2 ** 32)]);
        for (let b = 1; b < p.length; b++) p[b] = (v >>> (8 * (b - 1))) & 0xff;
        parts[j] = p;
      }
      kinds.push('int');
    } else if (m === 8) {
      // opcodes of another pickle spliced in
      const from = r.int(Math.max(1, donorOps.length - 1)),
        len = 1 + r.int(20);
      parts.splice(i, 0, ...donorOps.slice(from, from + len).map((o) => donor.subarray(o.start, o.end)));
      kinds.push('splice');
    } else if (m === 9) {
      // two opcodes swapped
      const j = r.int(parts.length);
      [parts[i], parts[j]] = [parts[j], parts[i]];
      kinds.push('swap');
    } else if (m === 10) {
      // cut at an opcode boundary
      parts = parts.slice(0, i);
      kinds.push('cut');
    } else {
      // a large value and a global memoized, then called on it many times (the amplification attack, fuzzed)
      parts.splice(i, 0, amplifier(r));
      kinds.push('amplify');
    }
  }
  return { kind: `op-${kinds.join('+')}`, bytes: concat(...parts) };
}

/** Where each pickle of a legacy file starts and ends (magic, protocol, sys_info, object, storage keys). */
function legacyPickles(bytes: Uint8Array): [number, number][] {
  const spans: [number, number][] = [];
  let at = 0;
  for (let k = 0; k < 5; k++) {
    const ops = opcodes(bytes.subarray(at));
    const end = at + (ops.length ? ops[ops.length - 1].end : 0);
    spans.push([at, end]);
    at = end;
  }
  return spans;
}

function mutatePickleCase(
  r: Rng,
  base: { name: string; bytes: Uint8Array },
  donor: { name: string; bytes: Uint8Array },
): Case {
  const files = records.get(base.name);
  const donorFiles = records.get(donor.name);
  const donorPkl = donorFiles
    ? donorFiles.find((f) => f.name.endsWith('/data.pkl'))!.data
    : donor.bytes.subarray(0, 2000);
  if (files) {
    const copy: ZipRecord[] = files.map((f) => ({ name: f.name, data: f.data }));
    const pkl = copy.find((f) => (f.name as string).endsWith('/data.pkl'))!;
    const m = mutatePickle(r, pkl.data, donorPkl);
    pkl.data = m.bytes;
    // stored and aligned as torch writes it, or every record deflated
    if (r.int(4)) return { kind: m.kind, bytes: writeZip(copy as { name: string; data: Uint8Array }[]) };
    return { kind: `${m.kind}/deflated`, bytes: buildZip(copy.map((f) => ({ ...f, deflate: true }))) };
  }
  const spans = legacyPickles(base.bytes);
  const [s, e] = spans[r.int(4) ? 3 : r.int(5)];
  const m = mutatePickle(r, base.bytes.subarray(s, e), donorPkl);
  return { kind: `legacy-${m.kind}`, bytes: concat(base.bytes.subarray(0, s), m.bytes, base.bytes.subarray(e)) };
}

// ---------------------------------------------------------------------------------------------------------------------
// Family 3: structure of the zip

function mutateZipCase(r: Rng, base: { name: string }, donor: { name: string }): Case {
  const files: ZipRecord[] = records
    .get(base.name)!
    .map((f) => ({ name: f.name, data: f.data, deflate: r.int(5) === 0 }));
  const enc = new TextEncoder();
  const kinds: string[] = [];
  let directory: ((d: DirEntry[]) => DirEntry[]) | undefined;
  let prefix: Uint8Array | undefined,
    lead: Uint8Array | undefined,
    count: number | undefined,
    suffix: Uint8Array | undefined;
  const pickRecord = () => r.int(files.length);
  for (let k = 1 + r.int(2); k > 0; k--) {
    const m = r.int(14);
    const i = pickRecord();
    if (m === 0) {
      // the same name twice (same or other data)
      files.splice(r.int(files.length + 1), 0, {
        ...files[i],
        data: r.int(2) ? files[i].data : (records.get(donor.name)?.[0]?.data ?? new Uint8Array(3)),
      });
      kinds.push('dup-record');
    } else if (m === 1) {
      // one directory entry listed twice
      directory = (d) => {
        const j = r.int(d.length);
        return [...d.slice(0, j + 1), d[j], ...d.slice(j + 1)];
      };
      kinds.push('dup-entry');
    } else if (m === 2) {
      // a record dropped
      files.splice(i, 1);
      kinds.push('drop');
    } else if (m === 3) {
      // records reordered
      for (let j = files.length - 1; j > 0; j--) {
        const x = r.int(j + 1);
        [files[j], files[x]] = [files[x], files[j]];
      }
      kinds.push('shuffle');
    } else if (m === 4) {
      // a record renamed (another folder, a NUL, a control character, a near miss)
      const name = files[i].name as string;
      files[i] = {
        ...files[i],
        name: r.pick([
          `other/${name}`,
          `${name}\x00x`,
          `${name}\x1b`,
          name.replace('data', 'dat\u0430'),
          name.toUpperCase(),
          name.replace(/^[^/]+/, 'b'),
        ]),
      };
      kinds.push('rename');
    } else if (m === 5) {
      // a second pickle under another folder
      const pkl = files.find((f) => (f.name as string).endsWith('/data.pkl'));
      if (pkl) files.push({ ...pkl, name: `zz/data.pkl` });
      kinds.push('second-pickle');
    } else if (m === 6) {
      // a directory entry pointing into another record (header or data)
      directory = (d) =>
        d.map((e, j) =>
          j === i % d.length ? { ...e, offset: d[r.int(d.length)].offset + r.pick([0, 30, 46, 64]) } : e,
        );
      kinds.push('offset');
    } else if (m === 7) {
      // sizes in the directory off by a little or a lot
      const delta = r.pick([-1, 1, 4, 64, 4096, 0x7fffffff]);
      directory = (d) =>
        d.map((e, j) =>
          j === i % d.length
            ? {
                ...e,
                compressedSize: Math.max(0, e.compressedSize + delta) >>> 0,
                size: r.int(2) ? Math.max(0, e.size + delta) >>> 0 : e.size,
              }
            : e,
        );
      kinds.push('size');
    } else if (m === 8) {
      // compression method switched
      const method = r.pick([0, 8, 12, 99]);
      directory = (d) => d.map((e, j) => (j === i % d.length ? { ...e, method } : e));
      kinds.push('method');
    } else if (m === 9) {
      // a stray local record before the archive, offsets not adjusted (or adjusted: consistent)
      const stray = buildZip([{ name: 'archive/data.pkl', data: files[i].data.subarray(0, 200) }]);
      const record = stray.subarray(0, 30 + 16 + Math.min(200, files[i].data.length));
      if (r.int(2)) prefix = record;
      else lead = record;
      kinds.push(prefix ? 'prefix' : 'lead');
    } else if (m === 10) {
      // an end record that miscounts
      count = Math.max(0, files.length + r.pick([-1, 1, 100]));
      kinds.push('count');
    } else if (m === 11) {
      // a wrong CRC in the directory
      directory = (d) => d.map((e, j) => (j === i % d.length ? { ...e, crc: (e.crc ^ (1 << r.int(32))) >>> 0 } : e));
      kinds.push('crc');
    } else if (m === 12) {
      // a record nested inside another one's data
      const inner = buildZip([files[i]]);
      const innerLen = inner.length - 22 - 46 - enc.encode(files[i].name as string).length;
      files.push({ name: 'archive/nest', data: inner.subarray(0, innerLen) });
      directory = (d) => [...d, { ...d[i], offset: d[d.length - 1].offset + 30 + 'archive/nest'.length }];
      kinds.push('nest');
    } else {
      // bytes after the end record
      suffix = new Uint8Array(1 + r.int(100)).fill(r.int(256));
      kinds.push('suffix');
    }
  }
  let bytes = buildZip(files, { directory, prefix, lead, count });
  if (suffix) bytes = concat(bytes, suffix);
  return { kind: `zip-${kinds.join('+')}`, bytes };
}

// ---------------------------------------------------------------------------------------------------------------------
// Running a case

function checkWellFormed(f: PthFile) {
  for (const t of f.tensors) {
    expect(t.data).toBeInstanceOf(Float32Array);
    expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
  }
}

interface Tally {
  outcomes: Map<string, number>;
  worstCpu: { ms: number; kind: string };
  worstAccounted: { bytes: number; kind: string };
  worstHeap: { bytes: number; kind: string };
}

function newTally(): Tally {
  return {
    outcomes: new Map(),
    worstCpu: { ms: 0, kind: '' },
    worstAccounted: { bytes: 0, kind: '' },
    worstHeap: { bytes: 0, kind: '' },
  };
}

function runCase(c: Case, label: string, tally: Tally): void {
  const stats: ReadStats = {
    builtBytes: 0,
    builtBytesBudget: 0,
    objects: 0,
    materializedElements: 0,
    inflatedBytes: 0,
  };
  const m0 = process.memoryUsage();
  const t0 = process.cpuUsage();
  let outcome: string;
  try {
    const file = readWithLimits(c.bytes, LIMITS, stats);
    checkWellFormed(file);
    try {
      toMlp(file);
      outcome = 'ok';
    } catch (e) {
      if (!(e instanceof PthError)) throw e;
      outcome = e.code;
    }
  } catch (e) {
    if (!(e instanceof PthError)) throw new Error(`${label} threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
    // the catch-all in readPth turns a stray TypeError into PTH_CORRUPT: that would be a loader bug
    if (/unexpected failure/.test(e.message)) throw new Error(`${label}: ${e.message}`);
    expect(e.message.length, label).toBeLessThanOrEqual(LIMITS.maxMessageLength);
    expect(e.message, label).not.toMatch(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/);
    outcome = e.code;
  }
  const used = process.cpuUsage(t0);
  const m1 = process.memoryUsage();
  const ms = (used.user + used.system) / 1000;
  // what the read allocated by its own account: VM values, inflated records, float32 tensors
  const accounted = stats.builtBytes + stats.inflatedBytes + 4 * stats.materializedElements;
  // heap + array buffers grown during the case (a GC in between can only make it smaller: a coarse cross-check)
  const heap = m1.heapUsed + m1.arrayBuffers - (m0.heapUsed + m0.arrayBuffers);
  expect(ms, `${label}: CPU ms`).toBeLessThan(CPU_MS_PER_CASE);
  expect(accounted, `${label}: accounted bytes`).toBeLessThan(MEMORY_PER_CASE);
  expect(heap, `${label}: heap growth`).toBeLessThan(MEMORY_PER_CASE);
  if (ms > tally.worstCpu.ms) tally.worstCpu = { ms, kind: label };
  if (accounted > tally.worstAccounted.bytes) tally.worstAccounted = { bytes: accounted, kind: label };
  if (heap > tally.worstHeap.bytes) tally.worstHeap = { bytes: heap, kind: label };
  tally.outcomes.set(outcome, (tally.outcomes.get(outcome) ?? 0) + 1);
}

function report(name: string, count: number, tally: Tally, wallMs: number): void {
  const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`;
  console.log(
    `fuzz ${name}: ${count} cases in ${(wallMs / 1000).toFixed(1)} s wall`,
    Object.fromEntries([...tally.outcomes].sort((a, b) => b[1] - a[1])),
    `\n  worst CPU ${tally.worstCpu.ms.toFixed(1)} ms (${tally.worstCpu.kind})`,
    `\n  worst accounted memory ${mb(tally.worstAccounted.bytes)} (${tally.worstAccounted.kind})`,
    `\n  worst heap growth ${mb(tally.worstHeap.bytes)} (${tally.worstHeap.kind})`,
  );
}

function fuzz(
  name: string,
  count: number,
  seed: number,
  make: (r: Rng, i: number) => { case: Case; base: string },
): Tally {
  const r = rng(seed);
  const tally = newTally();
  const t0 = Date.now(); // reported only: no assertion depends on wall time
  for (let i = 0; i < count; i++) {
    const { case: c, base } = make(r, i);
    runCase(c, `case ${i} (${c.kind} of ${base})`, tally);
  }
  report(name, count, tally, Date.now() - t0);
  return tally;
}

const at = (tally: Tally, code: string) => tally.outcomes.get(code) ?? 0;

describe('fuzz (20,000 seeded inputs, each measured)', () => {
  test('8,000 byte-level mutations: a state dict or a PthError each, within CPU and memory bounds', () => {
    const tally = fuzz('bytes', 8000, 20240601, (r) => {
      const base = r.pick(bases),
        other = r.pick(bases);
      return { case: mutateBytes(r, base.name, base.bytes, other.bytes), base: base.name };
    });
    // the mutations must reach deep: the VM and the storage checks, not just the first header
    for (const code of ['ok', 'PTH_CORRUPT', 'PTH_TRUNCATED', 'PTH_BAD_PICKLE'])
      expect(at(tally, code), code).toBeGreaterThan(20);
  }, 600_000);

  test('8,000 opcode-level pickle mutations (re-zipped with valid CRCs): each within CPU and memory bounds', () => {
    const tally = fuzz('pickle opcodes', 8000, 20261201, (r) => {
      const base = r.int(5) ? r.pick(zipBases) : r.pick(bases),
        donor = r.pick(bases);
      return { case: mutatePickleCase(r, base, donor), base: base.name };
    });
    for (const code of ['ok', 'PTH_BAD_PICKLE', 'PTH_BAD_VIEW', 'PTH_NO_STATE_DICT'])
      expect(at(tally, code), code).toBeGreaterThan(20);
    // repeated memo calls and container growth reach the VM budget, not only the opcode checks
    expect(at(tally, 'PTH_LIMIT'), 'PTH_LIMIT').toBeGreaterThan(50);
  }, 600_000);

  test('4,000 structural zip mutations: each within CPU and memory bounds', () => {
    const tally = fuzz('zip structure', 4000, 1010, (r) => {
      const base = r.pick(zipBases),
        donor = r.pick(zipBases);
      return { case: mutateZipCase(r, base, donor), base: base.name };
    });
    for (const code of ['ok', 'PTH_CORRUPT', 'PTH_ZIP_DUPLICATE', 'PTH_ZIP_OVERLAP'])
      expect(at(tally, code), code).toBeGreaterThan(20);
  }, 600_000);
});
