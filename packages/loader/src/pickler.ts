// The writer side of torch.save files, shared by savePth (save.ts: state_dicts) and saveCheckpoint (checkpoint.ts:
// training checkpoints): a protocol-2 pickle writer that frames opcodes through opcodes.ts's encodeOp, the pickling of
// a tensor as torch.save writes it, storage bytes in each dtype, and the zip layout of torch's record writer.
import type { PthDtype } from './dtypes.js';
import { PthError } from './errors.js';
import { OP, encodeOp } from './opcodes.js';
import { writeZip } from './zip.js';

function badArgument(problem: string, hint: string): PthError {
  return new PthError('PTH_BAD_ARGUMENT', problem, hint);
}

/** A protocol-2 pickle writer: each method appends opcodes as Python's pickler writes them. */
export class Pickler {
  private chunks: number[] = [];
  private enc = new TextEncoder();
  private memo = 0;
  op(code: number, arg?: number | readonly string[]) {
    for (const b of encodeOp(code, arg)) this.chunks.push(b);
  }
  raw(b: Uint8Array) {
    for (const x of b) this.chunks.push(x);
  }
  /** Memoizes the object just written, as Python's pickler does after each new object; returns its memo index. */
  put(): number {
    const i = this.memo++;
    this.op(i < 256 ? OP.BINPUT : OP.LONG_BINPUT, i);
    return i;
  }
  /** Memo entries written so far (the last one is `memoSize - 1`). */
  get memoSize(): number {
    return this.memo;
  }
  /** Pushes memoized object `i` again (Python's pickler writes a second reference to an object this way). */
  get(i: number) {
    this.op(i < 256 ? OP.BINGET : OP.LONG_BINGET, i);
  }
  global(module: string, name: string) {
    this.op(OP.GLOBAL, [module, name]);
    this.put();
  }
  str(s: string) {
    const b = this.enc.encode(s);
    this.op(OP.BINUNICODE, b.length);
    this.raw(b);
    this.put();
  }
  /** A non-negative size or count. */
  int(v: number) {
    if (!Number.isSafeInteger(v) || v < 0)
      throw badArgument(`cannot pickle ${v} as a size`, 'sizes are non-negative integers');
    this.long(BigInt(v));
  }
  /** Any Python int, as Python's pickler encodes it: BININT1, BININT2, BININT, else LONG1 / LONG4 (two's complement). */
  long(v: bigint) {
    if (v >= 0n && v < 256n) this.op(OP.BININT1, Number(v));
    else if (v >= 0n && v < 65536n) this.op(OP.BININT2, Number(v));
    else if (v >= -(2n ** 31n) && v < 2n ** 31n) this.op(OP.BININT, Number(v));
    else {
      const bytes = encodeLong(v);
      this.op(bytes.length < 256 ? OP.LONG1 : OP.LONG4, bytes.length);
      this.raw(bytes);
    }
  }
  /** A Python float: BINFLOAT, the IEEE double big-endian. */
  float(v: number) {
    this.op(OP.BINFLOAT, v);
  }
  intTuple(v: readonly number[]) {
    if (v.length === 0) {
      this.op(OP.EMPTY_TUPLE);
      return;
    }
    if (v.length <= 3) {
      for (const x of v) this.int(x);
      this.op([OP.TUPLE1, OP.TUPLE2, OP.TUPLE3][v.length - 1]);
    } else {
      this.op(OP.MARK);
      for (const x of v) this.int(x);
      this.op(OP.TUPLE);
    }
    this.put();
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

/** Python's pickle.encode_long: the shortest little-endian two's complement bytes of `v`. */
function encodeLong(v: bigint): Uint8Array {
  const magnitude = v < 0n ? -v : v;
  let bits = 0;
  for (let m = magnitude; m > 0n; m >>= 1n) bits++;
  let n = (bits >> 3) + 1;
  let u = v < 0n ? (1n << BigInt(8 * n)) + v : v;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++, u >>= 8n) out[i] = Number(u & 0xffn);
  // a negative number one byte too long (0xff above a byte whose top bit is set): Python drops that byte
  if (v < 0n && n > 1 && out[n - 1] === 0xff && out[n - 2] & 0x80) n--;
  return out.subarray(0, n);
}

/** The torch storage class that holds each dtype (how a pickle names a tensor's dtype). */
export const STORAGE_CLASS: Readonly<Record<PthDtype, string>> = {
  float32: 'FloatStorage',
  float64: 'DoubleStorage',
  float16: 'HalfStorage',
  bfloat16: 'BFloat16Storage',
  int64: 'LongStorage',
  int32: 'IntStorage',
  int16: 'ShortStorage',
  int8: 'CharStorage',
  uint8: 'ByteStorage',
  bool: 'BoolStorage',
};

/**
 * Appends `torch._utils._rebuild_tensor_v2(storage, 0, shape, stride, False, OrderedDict())` for a contiguous tensor,
 * its storage a persistent id ('storage', torch.<Dtype>Storage, key, 'cpu', numel), as torch.save writes it.
 */
export function pickleTensor(p: Pickler, key: string, dtype: PthDtype, numel: number, shape: readonly number[]) {
  p.global('torch._utils', '_rebuild_tensor_v2');
  p.op(OP.MARK); // the argument tuple
  // persistent id ('storage', torch.FloatStorage, key, 'cpu', numel)
  p.op(OP.MARK);
  p.str('storage');
  p.global('torch', STORAGE_CLASS[dtype]);
  p.str(key);
  p.str('cpu');
  p.int(numel);
  p.op(OP.TUPLE);
  p.put();
  p.op(OP.BINPERSID);
  p.int(0); // storage offset
  p.intTuple(shape);
  const stride = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  p.intTuple(stride);
  p.op(OP.NEWFALSE); // requires_grad
  p.global('collections', 'OrderedDict');
  p.op(OP.EMPTY_TUPLE);
  p.op(OP.REDUCE);
  p.put(); // backward hooks: OrderedDict()
  p.op(OP.TUPLE);
  p.put();
  p.op(OP.REDUCE);
  p.put();
}

/** Checks the archive's top folder name (torch uses the file stem or 'archive'). */
export function archiveRoot(root: string | undefined): string {
  const r = root ?? 'archive';
  if (!/^[\w.-]{1,100}$/.test(r))
    throw new PthError(
      'PTH_BAD_ARGUMENT',
      `archive folder name "${r}" is not valid`,
      'use letters, digits, ".", "-" and "_"',
    );
  return r;
}

/**
 * The zip of torch's record writer: `<root>/data.pkl`, `<root>/byteorder`, the storages as `<root>/data/<i>` (the
 * pickle names them '0', '1', ...), `<root>/version`; stored, 64-byte aligned.
 */
export function torchZip(root: string, pickle: Uint8Array, storages: readonly Uint8Array[]): Uint8Array {
  const files = [
    { name: `${root}/data.pkl`, data: pickle },
    { name: `${root}/byteorder`, data: new TextEncoder().encode('little') },
  ];
  storages.forEach((data, i) => files.push({ name: `${root}/data/${i}`, data }));
  files.push({ name: `${root}/version`, data: new TextEncoder().encode('3\n') });
  return writeZip(files, 64);
}

const INT_RANGE: Partial<Record<PthDtype, [number, number]>> = {
  int64: [-(2 ** 63), 2 ** 63 - 1],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  int16: [-32768, 32767],
  int8: [-128, 127],
  uint8: [0, 255],
  bool: [0, 1],
};

/**
 * Little-endian storage bytes of float32 values in `dtype`: float16 and bfloat16 rounded to nearest even; integer and
 * bool dtypes only from values that are integers in their range (else PTH_BAD_ARGUMENT naming `name`).
 */
export function encodeStorage(data: Float32Array, dtype: PthDtype, name: string): Uint8Array {
  switch (dtype) {
    case 'float32':
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    case 'float64':
      return new Uint8Array(Float64Array.from(data).buffer);
    case 'float16':
      return new Uint8Array(Uint16Array.from(data, floatToHalf).buffer);
    case 'bfloat16':
      return new Uint8Array(Uint16Array.from(data, floatToBfloat16).buffer);
  }
  const [lo, hi] = INT_RANGE[dtype]!;
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    // float32 cannot hold 2^63 - 1: the top of the int64 range is 2^63, excluded
    if (!Number.isInteger(x) || x < lo || x > hi || x === 2 ** 63)
      throw badArgument(
        `tensor ${name} holds ${x} at index ${i}, which is not a ${dtype} value`,
        `${dtype} tensors hold integers from ${lo} to ${hi}`,
      );
  }
  switch (dtype) {
    case 'int64':
      return new Uint8Array(BigInt64Array.from(data, (x) => BigInt(x)).buffer);
    case 'int32':
      return new Uint8Array(Int32Array.from(data).buffer);
    case 'int16':
      return new Uint8Array(Int16Array.from(data).buffer);
    case 'int8':
      return new Uint8Array(Int8Array.from(data).buffer);
    default:
      return Uint8Array.from(data); // uint8, bool
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 -> IEEE half bits, rounded to nearest even (overflow to infinity, NaN kept NaN). */
function floatToHalf(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // subnormal half: m * 2^-24
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rest > half || (rest === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // a carry out of the mantissa steps the exponent, up to infinity: what rounding should do
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** float32 -> bfloat16 bits (the high half), rounded to nearest even; NaN kept NaN. */
function floatToBfloat16(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  if ((b & 0x7f800000) === 0x7f800000 && b & 0x7fffff) return (b >>> 16) | 0x40;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}
