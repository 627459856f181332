// Hand-made inputs for the hostile and budget tests and the fuzz run: a tiny pickle assembler, a state_dict writer on
// top of it, an opcode walker (like pickletools.genops) and a zip builder that can lie (deflate, duplicate names,
// records sharing bytes, a central directory elsewhere). Every hostile input is generated inside its test with these.
import { deflateRawSync } from 'node:zlib';
import { crc32 } from '../src/zip.js';

export const OP = {
  MARK: 0x28, STOP: 0x2e, POP: 0x30, POP_MARK: 0x31, DUP: 0x32, BINFLOAT: 0x47, BININT: 0x4a, BININT1: 0x4b, BININT2: 0x4d,
  NONE: 0x4e, BINPERSID: 0x51, REDUCE: 0x52, BINSTRING: 0x54, SHORT_BINSTRING: 0x55, UNICODE: 0x56, BINUNICODE: 0x58,
  APPEND: 0x61, BUILD: 0x62, GLOBAL: 0x63, DICT: 0x64, APPENDS: 0x65, BINGET: 0x68, LONG_BINGET: 0x6a, LIST: 0x6c,
  BINPUT: 0x71, LONG_BINPUT: 0x72, SETITEM: 0x73, TUPLE: 0x74, SETITEMS: 0x75, EMPTY_DICT: 0x7d, EMPTY_LIST: 0x5d,
  EMPTY_TUPLE: 0x29, BINBYTES: 0x42, SHORT_BINBYTES: 0x43, PROTO: 0x80, NEWOBJ: 0x81, TUPLE1: 0x85, TUPLE2: 0x86,
  TUPLE3: 0x87, NEWTRUE: 0x88, NEWFALSE: 0x89, LONG1: 0x8a, SHORT_BINUNICODE: 0x8c, STACK_GLOBAL: 0x93, MEMOIZE: 0x94,
} as const;

const enc = new TextEncoder();

function u32le(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** A pickle assembler: each method appends one opcode (with its argument); `bytes()` joins them. */
export class Pickle {
  private chunks: Uint8Array[] = [];
  private small: number[] = [];
  private flush() {
    if (this.small.length) { this.chunks.push(Uint8Array.from(this.small)); this.small = []; }
  }
  op(...codes: number[]): this { for (const c of codes) this.small.push(c); return this; }
  raw(b: Uint8Array): this { this.flush(); this.chunks.push(b); return this; }
  /** `count` copies of the one-byte opcode `code` (4M NONEs without a 4M-element array) */
  fill(code: number, count: number): this { return this.raw(new Uint8Array(count).fill(code)); }
  proto(v = 2): this { return this.op(OP.PROTO, v); }
  global(module: string, name: string): this { this.op(OP.GLOBAL); return this.raw(enc.encode(`${module}\n${name}\n`)); }
  /** BINUNICODE of a string, or of raw UTF-8 bytes (a 48 MB name without building a 48 MB JS string) */
  str(s: string | Uint8Array): this {
    const b = typeof s === 'string' ? enc.encode(s) : s;
    this.op(OP.BINUNICODE, ...u32le(b.length));
    return this.raw(b);
  }
  bytes(b: Uint8Array): this { this.op(OP.BINBYTES, ...u32le(b.length)); return this.raw(b); }
  /** BININT (4 bytes, fixed width: the pickle's size does not depend on the value) */
  int(v: number): this { return this.op(OP.BININT, ...u32le(v)); }
  none(): this { return this.op(OP.NONE); }
  mark(): this { return this.op(OP.MARK); }
  put(i: number): this { return i < 256 ? this.op(OP.BINPUT, i) : this.op(OP.LONG_BINPUT, ...u32le(i)); }
  get(i: number): this { return i < 256 ? this.op(OP.BINGET, i) : this.op(OP.LONG_BINGET, ...u32le(i)); }
  /** a tuple of ints from MARK ... TUPLE */
  intTuple(v: number[]): this { this.mark(); for (const x of v) this.int(x); return this.op(OP.TUPLE); }
  stop(): this { return this.op(OP.STOP); }
  bytesOut(): Uint8Array {
    this.flush();
    const n = this.chunks.reduce((a, c) => a + c.length, 0);
    const out = new Uint8Array(n);
    let o = 0;
    for (const c of this.chunks) { out.set(c, o); o += c.length; }
    return out;
  }
}

export interface TensorSpec {
  name: string | Uint8Array;
  /** storage key (`archive/data/<key>`) and its element count */
  key: string;
  numel: number;
  shape: number[];
  stride?: number[];
  offset?: number;
}

/** Appends a float32 tensor rebuilt by _rebuild_tensor_v2 (as torch.save writes it), leaving it on the stack. */
export function tensor(p: Pickle, t: Omit<TensorSpec, 'name'>): Pickle {
  const stride = t.stride ?? t.shape.map((_, d) => t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
  p.global('torch._utils', '_rebuild_tensor_v2').mark();
  p.mark().str('storage').global('torch', 'FloatStorage').str(t.key).str('cpu').int(t.numel).op(OP.TUPLE, OP.BINPERSID);
  p.int(t.offset ?? 0).intTuple(t.shape).intTuple(stride).op(OP.NEWFALSE);
  return p.global('collections', 'OrderedDict').op(OP.EMPTY_TUPLE, OP.REDUCE, OP.TUPLE, OP.REDUCE);
}

/** Appends `OrderedDict(...)` filled with `tensors`, leaving it on the stack. */
export function stateDict(p: Pickle, tensors: TensorSpec[]): Pickle {
  p.global('collections', 'OrderedDict').op(OP.EMPTY_TUPLE, OP.REDUCE);
  if (tensors.length === 0) return p;
  p.mark();
  for (const t of tensors) tensor(p.str(t.name), t);
  return p.op(OP.SETITEMS);
}

export interface ZipRecord {
  name: string | Uint8Array;
  data: Uint8Array;
  deflate?: boolean;
}

/** One central-directory entry as written; `buildZip`'s `directory` option may edit, drop or repeat them. */
export interface DirEntry {
  name: Uint8Array;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  offset: number;
}

export interface BuildZipOptions {
  /** rewrites the central directory before it is written (duplicate, drop, reorder, point elsewhere) */
  directory?: (entries: DirEntry[]) => DirEntry[];
  /** bytes put before the finished archive, offsets unchanged (`cat stub zip`: Python's zipfile shifts offsets) */
  prefix?: Uint8Array;
  /** bytes before the first record, counted in every offset (a consistent archive with a lead-in) */
  lead?: Uint8Array;
  /** the record count written in the end record (default: the directory's length) */
  count?: number;
}

/** A zip archive of `records` (local headers + data, then the central directory and a plain end record). */
export function buildZip(records: ZipRecord[], options: BuildZipOptions = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  let offset = 0;
  const add = (b: Uint8Array) => { parts.push(b); offset += b.length; };
  if (options.lead) add(options.lead);
  let dir: DirEntry[] = [];
  for (const r of records) {
    const name = typeof r.name === 'string' ? enc.encode(r.name) : r.name;
    const body = r.deflate ? new Uint8Array(deflateRawSync(r.data)) : r.data;
    const e: DirEntry = { name, method: r.deflate ? 8 : 0, crc: crc32(r.data), compressedSize: body.length, size: r.data.length, offset };
    const h = new DataView(new ArrayBuffer(30));
    h.setUint32(0, 0x04034b50, true);
    h.setUint16(4, 20, true);
    h.setUint16(8, e.method, true);
    h.setUint32(14, e.crc, true);
    h.setUint32(18, e.compressedSize, true);
    h.setUint32(22, e.size, true);
    h.setUint16(26, name.length, true);
    add(new Uint8Array(h.buffer));
    add(name);
    add(body);
    dir.push(e);
  }
  if (options.directory) dir = options.directory(dir);
  const cdStart = offset;
  for (const e of dir) {
    const c = new DataView(new ArrayBuffer(46));
    c.setUint32(0, 0x02014b50, true);
    c.setUint16(4, 20, true);
    c.setUint16(6, 20, true);
    c.setUint16(10, e.method, true);
    c.setUint32(16, e.crc, true);
    c.setUint32(20, e.compressedSize, true);
    c.setUint32(24, e.size, true);
    c.setUint16(28, e.name.length, true);
    c.setUint32(42, e.offset, true);
    add(new Uint8Array(c.buffer));
    add(e.name);
  }
  const eocd = new DataView(new ArrayBuffer(22));
  eocd.setUint32(0, 0x06054b50, true);
  eocd.setUint16(8, options.count ?? dir.length, true);
  eocd.setUint16(10, options.count ?? dir.length, true);
  eocd.setUint32(12, offset - cdStart, true);
  eocd.setUint32(16, cdStart, true);
  add(new Uint8Array(eocd.buffer));
  if (options.prefix) parts.unshift(options.prefix);
  const out = new Uint8Array(parts.reduce((a, b) => a + b.length, 0));
  let o = 0;
  for (const b of parts) { out.set(b, o); o += b.length; }
  return out;
}

/** A zip .pth: `pkl` as archive/data.pkl (deflated if asked), float32 storages of `numel` values as archive/data/<key>. */
export function pth(pkl: Uint8Array, storages: Record<string, number | Float32Array> = {}, deflate = false): Uint8Array {
  const records: ZipRecord[] = [{ name: 'archive/data.pkl', data: pkl, deflate }];
  for (const [key, s] of Object.entries(storages)) {
    const values = typeof s === 'number' ? new Float32Array(s).map((_, i) => i / 8) : s;
    records.push({ name: `archive/data/${key}`, data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength), deflate });
  }
  records.push({ name: 'archive/version', data: enc.encode('3\n') });
  return buildZip(records);
}

// ---------------------------------------------------------------------------------------------------------------------
// Opcode walker: where each opcode of a pickle starts and ends, to mutate whole opcodes and their arguments.

const FIXED: Record<number, number> = { 0x80: 1, 0x95: 8, 0x71: 1, 0x72: 4, 0x68: 1, 0x6a: 4, 0x4a: 4, 0x4b: 1, 0x4d: 2, 0x47: 8, 0x82: 1, 0x83: 2, 0x84: 4 };
const LEN1 = new Set([0x8a, 0x55, 0x8c, 0x43]);
const LEN4 = new Set([0x8b, 0x54, 0x58, 0x42]);
const LEN8 = new Set([0x8d, 0x8e, 0x96]);
const LINE1 = new Set([0x49, 0x4c, 0x46, 0x53, 0x56, 0x67, 0x70, 0x50]);
const LINE2 = new Set([0x63, 0x69]);
const NO_ARG = new Set([0x28, 0x2e, 0x30, 0x31, 0x32, 0x4e, 0x51, 0x52, 0x61, 0x62, 0x64, 0x7d, 0x65, 0x6c, 0x5d, 0x6f, 0x73, 0x74, 0x29,
  0x75, 0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x97, 0x98]);

export interface OpSpan { op: number; start: number; end: number; /** offset and width of a length field, if any */ len?: [number, number] }

/** The opcodes of one pickle up to STOP (or up to the first byte that is not an opcode, or the end). */
export function opcodes(b: Uint8Array): OpSpan[] {
  const out: OpSpan[] = [];
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const line = (p: number) => { let i = p; while (i < b.length && b[i] !== 0x0a) i++; return i + 1; };
  let p = 0;
  while (p < b.length) {
    const op = b[p], start = p++;
    let len: [number, number] | undefined;
    if (op in FIXED) p += FIXED[op];
    else if (LEN1.has(op)) { len = [p, 1]; p += 1 + (b[p] ?? 0); }
    else if (LEN4.has(op)) { len = [p, 4]; p += 4 + (p + 4 <= b.length ? view.getUint32(p, true) : 0); }
    else if (LEN8.has(op)) { len = [p, 8]; p += 8 + (p + 8 <= b.length ? view.getUint32(p, true) : 0); }
    else if (LINE1.has(op)) p = line(p);
    else if (LINE2.has(op)) p = line(line(p));
    else if (!NO_ARG.has(op)) break;
    out.push({ op, start, end: Math.min(p, b.length), len });
    if (op === OP.STOP) break;
  }
  return out;
}
