// Hand-made inputs for the hostile and budget tests and the fuzz run: a tiny pickle assembler, a state_dict writer on
// top of it, an opcode walker (like pickletools.genops; both on src/opcodes.ts), a zip builder that can lie (deflate,
// duplicate names, records sharing bytes, a central directory elsewhere) and zip bombs of zeros. Every hostile input
// is generated inside its test with these.
import { constants, crc32 as zlibCrc32, deflateRawSync } from 'node:zlib';
import { OP, OpFrame, encodeOp, readOp } from '../src/opcodes.js';
import { crc32 } from '../src/zip.js';

const enc = new TextEncoder();

/** A pickle assembler: each method appends one opcode (with its argument); `bytes()` joins them. */
export class Pickle {
  private chunks: Uint8Array[] = [];
  private small: number[] = [];
  private flush() {
    if (this.small.length) {
      this.chunks.push(Uint8Array.from(this.small));
      this.small = [];
    }
  }
  op(...codes: number[]): this {
    for (const c of codes) this.small.push(c);
    return this;
  }
  raw(b: Uint8Array): this {
    this.flush();
    this.chunks.push(b);
    return this;
  }
  /** `count` copies of the one-byte opcode `code` (4M NONEs without a 4M-element array) */
  fill(code: number, count: number): this {
    return this.raw(new Uint8Array(count).fill(code));
  }
  proto(v = 2): this {
    return this.op(...encodeOp(OP.PROTO, v));
  }
  global(module: string, name: string): this {
    return this.op(...encodeOp(OP.GLOBAL, [module, name]));
  }
  /** BINUNICODE of a string, or of raw UTF-8 bytes (a 48 MB name without building a 48 MB JS string) */
  str(s: string | Uint8Array): this {
    const b = typeof s === 'string' ? enc.encode(s) : s;
    return this.op(...encodeOp(OP.BINUNICODE, b.length)).raw(b);
  }
  bytes(b: Uint8Array): this {
    return this.op(...encodeOp(OP.BINBYTES, b.length)).raw(b);
  }
  /** BININT (4 bytes, fixed width: the pickle's size does not depend on the value) */
  int(v: number): this {
    return this.op(...encodeOp(OP.BININT, v));
  }
  none(): this {
    return this.op(OP.NONE);
  }
  mark(): this {
    return this.op(OP.MARK);
  }
  put(i: number): this {
    return this.op(...encodeOp(i < 256 ? OP.BINPUT : OP.LONG_BINPUT, i));
  }
  get(i: number): this {
    return this.op(...encodeOp(i < 256 ? OP.BINGET : OP.LONG_BINGET, i));
  }
  /** a tuple of ints from MARK ... TUPLE */
  intTuple(v: number[]): this {
    this.mark();
    for (const x of v) this.int(x);
    return this.op(OP.TUPLE);
  }
  stop(): this {
    return this.op(OP.STOP);
  }
  bytesOut(): Uint8Array {
    this.flush();
    const n = this.chunks.reduce((a, c) => a + c.length, 0);
    const out = new Uint8Array(n);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
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
  p.int(t.offset ?? 0)
    .intTuple(t.shape)
    .intTuple(stride)
    .op(OP.NEWFALSE);
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

/** A raw deflate stream and the size and CRC-32 a record of it declares. */
export interface Deflated {
  stream: Uint8Array;
  size: number;
  crc: number;
}

/** A record stored as a ready deflate stream (a zip bomb: never inflated here). */
export interface DeflatedRecord {
  name: string;
  deflated: Deflated;
}

const MIB = 1 << 20;
let zeroMiB: { deflated: Uint8Array; crc: number; columns: number[] } | undefined;

/**
 * `mib` MiB of zeros as one raw deflate stream (about 1 KB a MiB) with its true size and CRC-32, made without a buffer
 * of that size: one MiB deflated on its own and flushed to a byte boundary, repeated, then a final empty block. The
 * CRC after one more zero MiB is an affine map (over GF(2)) of the CRC before it, read off 33 CRCs of one MiB.
 */
export function zeroBomb(mib: number): Deflated {
  if (!zeroMiB) {
    const zeros = new Uint8Array(MIB);
    const crc = zlibCrc32(zeros);
    const columns = Array.from({ length: 32 }, (_, i) => (zlibCrc32(zeros, 2 ** i) ^ crc) >>> 0);
    zeroMiB = { deflated: deflateRawSync(zeros, { level: 9, finishFlush: constants.Z_FULL_FLUSH }), crc, columns };
  }
  const { deflated, columns } = zeroMiB;
  const stream = new Uint8Array(deflated.length * mib + 2);
  for (let i = 0; i < mib; i++) stream.set(deflated, i * deflated.length);
  stream.set([0x03, 0x00], deflated.length * mib); // the final block: fixed Huffman codes, only its end code
  let crc = 0;
  for (let k = 0; k < mib; k++) {
    let next = zeroMiB.crc;
    for (let i = 0; i < 32; i++) if ((crc >>> i) & 1) next ^= columns[i];
    crc = next >>> 0;
  }
  return { stream, size: mib * MIB, crc };
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
export function buildZip(records: (ZipRecord | DeflatedRecord)[], options: BuildZipOptions = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  let offset = 0;
  const add = (b: Uint8Array) => {
    parts.push(b);
    offset += b.length;
  };
  if (options.lead) add(options.lead);
  let dir: DirEntry[] = [];
  for (const r of records) {
    const name = typeof r.name === 'string' ? enc.encode(r.name) : r.name;
    let body: Uint8Array, e: DirEntry;
    if ('deflated' in r) {
      body = r.deflated.stream;
      e = { name, method: 8, crc: r.deflated.crc, compressedSize: body.length, size: r.deflated.size, offset };
    } else {
      body = r.deflate ? new Uint8Array(deflateRawSync(r.data)) : r.data;
      e = {
        name,
        method: r.deflate ? 8 : 0,
        crc: crc32(r.data),
        compressedSize: body.length,
        size: r.data.length,
        offset,
      };
    }
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
  for (const b of parts) {
    out.set(b, o);
    o += b.length;
  }
  return out;
}

/** A zip .pth: `pkl` as archive/data.pkl (deflated if asked), float32 storages of `numel` values as archive/data/<key>. */
export function pth(
  pkl: Uint8Array,
  storages: Record<string, number | Float32Array> = {},
  deflate = false,
): Uint8Array {
  const records: ZipRecord[] = [{ name: 'archive/data.pkl', data: pkl, deflate }];
  for (const [key, s] of Object.entries(storages)) {
    const values = typeof s === 'number' ? new Float32Array(s).map((_, i) => i / 8) : s;
    records.push({
      name: `archive/data/${key}`,
      data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
      deflate,
    });
  }
  records.push({ name: 'archive/version', data: enc.encode('3\n') });
  return buildZip(records);
}

// ---------------------------------------------------------------------------------------------------------------------
// Opcode walker: where each opcode of a pickle starts and ends, to mutate whole opcodes and their arguments.

export interface OpSpan {
  op: number;
  start: number;
  end: number;
}

/**
 * The opcodes of one pickle up to STOP, framed by the VM's own readOp (lines unbounded, like pickletools.genops), up
 * to where the VM would stop: a byte that is no opcode or a negative length; an opcode the VM cannot read whole (cut
 * short, or a length of 2^53 or more) is the last span, to the end.
 */
export function opcodes(b: Uint8Array): OpSpan[] {
  const out: OpSpan[] = [];
  const frame = new OpFrame();
  for (let p = 0; p < b.length; p = frame.end) {
    const status = readOp(b, p, Infinity, frame);
    if (status === 'unknown' || status === 'negative length') break;
    const whole = status === 'ok';
    out.push({ op: frame.op, start: frame.start, end: whole ? Math.min(frame.end, b.length) : b.length });
    if (!whole || frame.op === OP.STOP) break;
  }
  return out;
}
