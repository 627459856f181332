// savePth: writes a zip-format .pth (pickle protocol 2, 64-byte aligned records, as torch.save does) that
// torch.load(path, weights_only=True) reads into the same tensors, in float32 or the tensor's own float dtype.
import type { PthDtype } from './dtypes.js';
import { PthError } from './errors.js';
import { OP, encodeOp } from './opcodes.js';
import type { PthTensor } from './read.js';
import { writeZip } from './zip.js';

export interface SaveLayer {
  name?: string;
  weight: Float32Array;
  bias: Float32Array;
  in: number;
  out: number;
}

/** The float dtypes savePth writes (values are given as float32 and rounded to nearest even for float16/bfloat16). */
export type SaveDtype = 'float32' | 'float64' | 'float16' | 'bfloat16';

const STORAGE: Record<SaveDtype, string> = {
  float32: 'FloatStorage',
  float64: 'DoubleStorage',
  float16: 'HalfStorage',
  bfloat16: 'BFloat16Storage',
};

interface SaveTensor {
  name: string;
  shape: number[];
  data: Float32Array;
  dtype: SaveDtype;
}

export interface SaveOptions {
  /** the archive's top folder; torch uses the file stem or 'archive' */
  root?: string;
}

function badArgument(problem: string): PthError {
  return new PthError(
    'PTH_BAD_ARGUMENT',
    problem,
    'pass layers with weight.length === out * in and bias.length === out',
  );
}

function toTensors(model: { layers: SaveLayer[] } | SavePthTensor[]): SaveTensor[] {
  if (Array.isArray(model)) {
    return model.map((t) => {
      const n = t.shape.reduce((a, b) => a * b, 1);
      if (!(t.data instanceof Float32Array) || t.data.length !== n)
        throw badArgument(`tensor ${t.name} has ${t.data?.length} values for shape [${t.shape}]`);
      const dtype = t.dtype ?? 'float32';
      if (!Object.hasOwn(STORAGE, dtype))
        throw new PthError(
          'PTH_BAD_ARGUMENT',
          `tensor ${t.name} has dtype ${dtype}`,
          'savePth writes float32, float64, float16 and bfloat16 tensors',
        );
      return { name: t.name, shape: t.shape, data: t.data, dtype: dtype as SaveDtype };
    });
  }
  const out: SaveTensor[] = [];
  model.layers.forEach((l, i) => {
    const name = l.name ?? `fc${i + 1}`;
    if (!(l.weight instanceof Float32Array) || l.weight.length !== l.out * l.in)
      throw badArgument(`layer ${name} weight has ${l.weight?.length} values, not ${l.out} x ${l.in}`);
    if (!(l.bias instanceof Float32Array) || l.bias.length !== l.out)
      throw badArgument(`layer ${name} bias has ${l.bias?.length} values, not ${l.out}`);
    out.push(
      { name: `${name}.weight`, shape: [l.out, l.in], data: l.weight, dtype: 'float32' },
      { name: `${name}.bias`, shape: [l.out], data: l.bias, dtype: 'float32' },
    );
  });
  return out;
}

/** A protocol-2 pickle writer for exactly what a state_dict needs. */
class Pickler {
  private chunks: number[] = [];
  private enc = new TextEncoder();
  private memo = 0;
  op(code: number, arg?: number | readonly string[]) {
    for (const b of encodeOp(code, arg)) this.chunks.push(b);
  }
  raw(b: Uint8Array) {
    for (const x of b) this.chunks.push(x);
  }
  put() {
    // as Python's pickler does after each new object
    const i = this.memo++;
    this.op(i < 256 ? OP.BINPUT : OP.LONG_BINPUT, i);
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
  int(v: number) {
    if (!Number.isSafeInteger(v) || v < 0) throw badArgument(`cannot pickle ${v}`);
    if (v < 256) this.op(OP.BININT1, v);
    else if (v < 65536) this.op(OP.BININT2, v);
    else if (v < 2 ** 31) this.op(OP.BININT, v);
    else {
      // LONG1, little-endian two's complement
      const bytes: number[] = [];
      let x = BigInt(v);
      while (x > 0n) {
        bytes.push(Number(x & 0xffn));
        x >>= 8n;
      }
      if (bytes[bytes.length - 1] & 0x80) bytes.push(0);
      this.op(OP.LONG1, bytes.length);
      this.raw(Uint8Array.from(bytes));
    }
  }
  intTuple(v: number[]) {
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

/** A tensor to write: its values as float32, stored as `dtype` (default float32; PthTensor's own dtype round-trips). */
export type SavePthTensor = Omit<PthTensor, 'dtype'> & { dtype?: PthDtype };

/**
 * Writes a state_dict: keys fc1.weight, fc1.bias, fc2.weight, ... for layers, float32; or the tensors' own names,
 * each in its dtype (float32, float64, float16 or bfloat16).
 */
export function savePth(model: { layers: SaveLayer[] } | SavePthTensor[], options: SaveOptions = {}): Uint8Array {
  const root = options.root ?? 'archive';
  if (!/^[\w.-]{1,100}$/.test(root))
    throw new PthError(
      'PTH_BAD_ARGUMENT',
      `archive folder name "${root}" is not valid`,
      'use letters, digits, ".", "-" and "_"',
    );
  const tensors = toTensors(model);
  const p = new Pickler();
  p.op(OP.PROTO, 2);
  p.global('collections', 'OrderedDict');
  p.op(OP.EMPTY_TUPLE);
  p.op(OP.REDUCE); // OrderedDict()
  p.put();
  if (tensors.length > 0) p.op(OP.MARK); // for SETITEMS
  tensors.forEach((t, i) => {
    p.str(t.name);
    p.global('torch._utils', '_rebuild_tensor_v2');
    p.op(OP.MARK); // the argument tuple
    // persistent id ('storage', torch.FloatStorage, key, 'cpu', numel)
    p.op(OP.MARK);
    p.str('storage');
    p.global('torch', STORAGE[t.dtype]);
    p.str(String(i));
    p.str('cpu');
    p.int(t.data.length);
    p.op(OP.TUPLE);
    p.put();
    p.op(OP.BINPERSID);
    p.int(0); // storage offset
    p.intTuple(t.shape);
    const stride = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
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
  });
  if (tensors.length > 0) p.op(OP.SETITEMS);
  p.op(OP.STOP);
  const files = [
    { name: `${root}/data.pkl`, data: p.bytes() },
    { name: `${root}/byteorder`, data: new TextEncoder().encode('little') },
  ];
  tensors.forEach((t, i) =>
    files.push({
      name: `${root}/data/${i}`,
      data: encode(t.data, t.dtype),
    }),
  );
  files.push({ name: `${root}/version`, data: new TextEncoder().encode('3\n') });
  return writeZip(files, 64);
}

/** Little-endian storage bytes of float32 values in `dtype`. */
function encode(data: Float32Array, dtype: SaveDtype): Uint8Array {
  switch (dtype) {
    case 'float32':
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    case 'float64': {
      const wide = Float64Array.from(data);
      return new Uint8Array(wide.buffer);
    }
    case 'float16':
      return new Uint8Array(Uint16Array.from(data, floatToHalf).buffer);
    default:
      return new Uint8Array(Uint16Array.from(data, floatToBfloat16).buffer);
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
