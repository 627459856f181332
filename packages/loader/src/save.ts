// savePth: writes a zip-format .pth (pickle protocol 2, 64-byte aligned records, as torch.save does) that
// torch.load(path, weights_only=True) reads into the same tensors.
import { PthError } from './errors.js';
import type { PthTensor } from './read.js';
import { writeZip } from './zip.js';

export interface SaveLayer {
  name?: string;
  weight: Float32Array;
  bias: Float32Array;
  in: number;
  out: number;
}

export interface SaveOptions {
  /** the archive's top folder; torch uses the file stem or 'archive' */
  root?: string;
}

function badArgument(problem: string): PthError {
  return new PthError('PTH_BAD_ARGUMENT', problem, 'pass layers with weight.length === out * in and bias.length === out');
}

function toTensors(model: { layers: SaveLayer[] } | PthTensor[]): { name: string; shape: number[]; data: Float32Array }[] {
  if (Array.isArray(model)) {
    return model.map((t) => {
      const n = t.shape.reduce((a, b) => a * b, 1);
      if (!(t.data instanceof Float32Array) || t.data.length !== n) throw badArgument(`tensor ${t.name} has ${t.data?.length} values for shape [${t.shape}]`);
      return { name: t.name, shape: t.shape, data: t.data };
    });
  }
  const out: { name: string; shape: number[]; data: Float32Array }[] = [];
  model.layers.forEach((l, i) => {
    const name = l.name ?? `fc${i + 1}`;
    if (!(l.weight instanceof Float32Array) || l.weight.length !== l.out * l.in) throw badArgument(`layer ${name} weight has ${l.weight?.length} values, not ${l.out} x ${l.in}`);
    if (!(l.bias instanceof Float32Array) || l.bias.length !== l.out) throw badArgument(`layer ${name} bias has ${l.bias?.length} values, not ${l.out}`);
    out.push({ name: `${name}.weight`, shape: [l.out, l.in], data: l.weight }, { name: `${name}.bias`, shape: [l.out], data: l.bias });
  });
  return out;
}

/** A protocol-2 pickle writer for exactly what a state_dict needs. */
class Pickler {
  private chunks: number[] = [];
  private enc = new TextEncoder();
  private memo = 0;
  op(...bytes: number[]) { for (const b of bytes) this.chunks.push(b); }
  raw(b: Uint8Array) { for (const x of b) this.chunks.push(x); }
  put() { // BINPUT / LONG_BINPUT, as Python's pickler does after each new object
    const i = this.memo++;
    if (i < 256) this.op(0x71, i);
    else this.op(0x72, i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff, i >>> 24);
  }
  global(module: string, name: string) { this.op(0x63); this.raw(this.enc.encode(`${module}\n${name}\n`)); this.put(); }
  str(s: string) {
    const b = this.enc.encode(s);
    this.op(0x58, b.length & 0xff, (b.length >> 8) & 0xff, (b.length >> 16) & 0xff, b.length >>> 24);
    this.raw(b);
    this.put();
  }
  int(v: number) {
    if (!Number.isSafeInteger(v) || v < 0) throw badArgument(`cannot pickle ${v}`);
    if (v < 256) this.op(0x4b, v);
    else if (v < 65536) this.op(0x4d, v & 0xff, v >> 8);
    else if (v < 2 ** 31) this.op(0x4a, v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >>> 24);
    else { // LONG1, little-endian two's complement
      const bytes: number[] = [];
      let x = BigInt(v);
      while (x > 0n) { bytes.push(Number(x & 0xffn)); x >>= 8n; }
      if (bytes[bytes.length - 1] & 0x80) bytes.push(0);
      this.op(0x8a, bytes.length, ...bytes);
    }
  }
  intTuple(v: number[]) {
    if (v.length === 0) { this.op(0x29); return; }
    if (v.length <= 3) { for (const x of v) this.int(x); this.op(0x84 + v.length); }
    else { this.op(0x28); for (const x of v) this.int(x); this.op(0x74); }
    this.put();
  }
  bytes(): Uint8Array { return Uint8Array.from(this.chunks); }
}

/** Writes a state_dict: keys fc1.weight, fc1.bias, fc2.weight, ... for layers (or the tensors' own names), float32. */
export function savePth(model: { layers: SaveLayer[] } | PthTensor[], options: SaveOptions = {}): Uint8Array {
  const root = options.root ?? 'archive';
  if (!/^[\w.-]{1,100}$/.test(root)) throw new PthError('PTH_BAD_ARGUMENT', `archive folder name "${root}" is not valid`, 'use letters, digits, ".", "-" and "_"');
  const tensors = toTensors(model);
  const p = new Pickler();
  p.op(0x80, 2); // PROTO 2
  p.global('collections', 'OrderedDict');
  p.op(0x29, 0x52); // EMPTY_TUPLE REDUCE -> OrderedDict()
  p.put();
  if (tensors.length > 0) p.op(0x28); // MARK for SETITEMS
  tensors.forEach((t, i) => {
    p.str(t.name);
    p.global('torch._utils', '_rebuild_tensor_v2');
    p.op(0x28); // MARK: the argument tuple
    // persistent id ('storage', torch.FloatStorage, key, 'cpu', numel)
    p.op(0x28);
    p.str('storage');
    p.global('torch', 'FloatStorage');
    p.str(String(i));
    p.str('cpu');
    p.int(t.data.length);
    p.op(0x74); p.put(); // TUPLE
    p.op(0x51); // BINPERSID
    p.int(0); // storage offset
    p.intTuple(t.shape);
    const stride = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
    p.intTuple(stride);
    p.op(0x89); // requires_grad False
    p.global('collections', 'OrderedDict');
    p.op(0x29, 0x52); p.put(); // backward hooks: OrderedDict()
    p.op(0x74); p.put(); // TUPLE
    p.op(0x52); p.put(); // REDUCE
  });
  if (tensors.length > 0) p.op(0x75); // SETITEMS
  p.op(0x2e); // STOP
  const files = [{ name: `${root}/data.pkl`, data: p.bytes() }, { name: `${root}/byteorder`, data: new TextEncoder().encode('little') }];
  tensors.forEach((t, i) => files.push({ name: `${root}/data/${i}`, data: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) }));
  files.push({ name: `${root}/version`, data: new TextEncoder().encode('3\n') });
  return writeZip(files, 64);
}
