// safetensors reader and writer: an 8-byte little-endian header length, a JSON header
// ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}), then the raw little-endian data.
// Nothing in the format is code; the bounds here are the header size, the offsets and dtype x shape.
import { PthError, HINT_CORRUPT, HINT_TRUNCATED } from './errors.js';
import { halfToFloat, type PthDtype } from './dtypes.js';
import { LIMITS, type Limits } from './limits.js';
import type { PthFile, PthTensor } from './pth-file.js';
import { quote } from './text.js';

/** The largest JSON header read (the Python package's own bound is 100 MB; an MLP's header is a few hundred bytes). */
export const SAFETENSORS_MAX_HEADER = 16 << 20;

/** safetensors dtype -> the loader's dtype and bytes per element. Only float dtypes are read. */
const DTYPES: ReadonlyMap<string, { dtype: PthDtype; itemsize: number }> = new Map([
  ['F32', { dtype: 'float32', itemsize: 4 }],
  ['F64', { dtype: 'float64', itemsize: 8 }],
  ['F16', { dtype: 'float16', itemsize: 2 }],
  ['BF16', { dtype: 'bfloat16', itemsize: 2 }],
] as [string, { dtype: PthDtype; itemsize: number }][]);

export interface SafetensorsFile extends PthFile {
  format: 'safetensors';
  /** the header's `__metadata__` (str -> str), kept as read and never interpreted */
  metadata: Record<string, string>;
}

/** The first 8 bytes are a plausible little-endian length (high word 0) and the header starts with '{'. */
export function looksLikeSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 10 || bytes[8] !== 0x7b) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
  return view.getUint32(4, true) === 0 && view.getUint32(0, true) >= 2;
}

function corrupt(problem: string): PthError {
  return new PthError('PTH_CORRUPT', problem, HINT_CORRUPT);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function sizeList(v: unknown, what: string, maxDims: number): number[] {
  if (!Array.isArray(v)) throw corrupt(`${what} is not a list`);
  if (v.length > maxDims)
    throw new PthError(
      'PTH_LIMIT',
      `${what} has ${v.length} entries, more than ${maxDims}`,
      `at most ${maxDims} are read`,
    );
  for (const x of v)
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0)
      throw corrupt(`${what} holds ${quote(JSON.stringify(x) ?? String(x), 40)}, not a size`);
  return v as number[];
}

interface Entry {
  name: string;
  dtype: PthDtype;
  itemsize: number;
  shape: number[];
  begin: number;
  end: number;
}

/** Reads a safetensors file into the same shape readPth returns (format 'safetensors'). Never executes anything. */
export function readSafetensors(bytes: Uint8Array, limits: Limits = LIMITS): SafetensorsFile {
  if (bytes.length < 8)
    throw new PthError('PTH_TRUNCATED', 'the file ends inside the 8-byte header length', HINT_TRUNCATED);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(4, true) * 0x1_0000_0000 + view.getUint32(0, true);
  if (headerLength > SAFETENSORS_MAX_HEADER)
    throw new PthError(
      'PTH_LIMIT',
      `the safetensors header length field says ${headerLength} bytes, more than ${SAFETENSORS_MAX_HEADER}`,
      'an MLP header is a few hundred bytes: the file is hostile or not a safetensors file',
    );
  if (headerLength > bytes.length - 8)
    throw new PthError(
      'PTH_TRUNCATED',
      `the safetensors header length field says ${headerLength} bytes; the file has ${bytes.length}`,
      HINT_TRUNCATED,
    );
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch {
    throw corrupt('the safetensors header is not valid UTF-8 JSON');
  }
  if (!isPlainObject(header)) throw corrupt('the safetensors header is not a JSON object');
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isPlainObject(info)) throw corrupt('__metadata__ is not an object of strings');
      for (const [k, v] of Object.entries(info)) {
        if (typeof v !== 'string') throw corrupt(`__metadata__ entry ${quote(k)} is not a string`);
        Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    if (entries.length >= limits.maxTensors)
      throw new PthError(
        'PTH_LIMIT',
        `the safetensors header lists more than ${limits.maxTensors} tensors`,
        'an MLP has two per layer: the file is hostile or not a model',
      );
    if (!isPlainObject(info)) throw corrupt(`tensor ${quote(name)} has no {dtype, shape, data_offsets} entry`);
    const kind = DTYPES.get(info.dtype as string);
    if (!kind)
      throw new PthError(
        'PTH_UNSUPPORTED_DTYPE',
        `tensor ${quote(name)} has dtype ${quote(String(info.dtype), 16)}`,
        'only F32, F64, F16 and BF16 weights are read: convert with model.float() and re-save',
      );
    const shape = sizeList(info.shape, `tensor ${quote(name)} shape`, limits.maxDims);
    const offsets = sizeList(info.data_offsets, `tensor ${quote(name)} data_offsets`, 2);
    if (offsets.length !== 2) throw corrupt(`tensor ${quote(name)} data_offsets is not [begin, end]`);
    const [begin, end] = offsets;
    if (begin > end) throw corrupt(`tensor ${quote(name)} data_offsets [${begin}, ${end}] end before they begin`);
    let numel = 1;
    for (const s of shape) numel *= s;
    if (numel > limits.maxTensorElements)
      throw new PthError(
        'PTH_LIMIT',
        `tensor ${quote(name)} has ${numel} elements`,
        `at most ${limits.maxTensorElements} per tensor are read`,
      );
    const want = numel * kind.itemsize;
    if (end - begin !== want)
      throw corrupt(
        `tensor ${quote(name)} ${info.dtype} [${shape}] needs ${want} bytes; its data_offsets [${begin}, ${end}] span ${end - begin}`,
      );
    if (end > dataLength)
      throw new PthError(
        'PTH_TRUNCATED',
        `tensor ${quote(name)} data_offsets [${begin}, ${end}] lie past the end of the ${dataLength}-byte data`,
        HINT_TRUNCATED,
      );
    entries.push({ name, ...kind, shape, begin, end });
  }
  // In file order: the order of the bytes is the one order every writer states (JSON key order is not kept by every
  // parser, and JS itself moves integer-like keys first).
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < entries.length; i++) {
    const prev = entries[i - 1],
      cur = entries[i];
    if (cur.begin < prev.end && cur.end > cur.begin)
      throw corrupt(
        `tensor ${quote(cur.name)} data_offsets [${cur.begin}, ${cur.end}] overlap ${quote(prev.name)} [${prev.begin}, ${prev.end}]`,
      );
  }
  const tensors: PthTensor[] = [];
  const warnings: string[] = [];
  for (const e of entries) {
    const data = decodeLittleEndian(bytes.subarray(dataStart + e.begin, dataStart + e.end), e.dtype);
    const w = nonFinite(e.name, data);
    if (w) warnings.push(w);
    tensors.push({ name: e.name, dtype: e.dtype, shape: e.shape.slice(), data });
  }
  return {
    format: 'safetensors',
    root: null,
    key: null,
    ignored: [],
    byteorder: 'little',
    tensors,
    warnings,
    metadata,
  };
}

/** Little-endian raw values -> float32 (F16 and BF16 exactly, F64 rounded to nearest). Internal (torchscript.ts). */
export function decodeLittleEndian(raw: Uint8Array, dtype: PthDtype): Float32Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (dtype) {
    case 'float32': {
      const out = new Float32Array(raw.length / 4);
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
      return out;
    }
    case 'float64': {
      const out = new Float32Array(raw.length / 8);
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(8 * i, true);
      return out;
    }
    case 'float16': {
      const out = new Float32Array(raw.length / 2);
      for (let i = 0; i < out.length; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
      return out;
    }
    default: {
      // bfloat16: the high half of a float32
      const out = new Float32Array(raw.length / 2);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < out.length; i++) bits[i] = view.getUint16(2 * i, true) << 16;
      return out;
    }
  }
}

function nonFinite(name: string, data: Float32Array): string | null {
  let count = 0;
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) count++;
  return count === 0
    ? null
    : `${quote(name)} holds ${count} NaN or infinite value${count > 1 ? 's' : ''} of ${data.length}: predictions will be NaN or meaningless`;
}

// ---------------------------------------------------------------------------------------------------------------------
// Writer

export interface SafetensorsLayer {
  name?: string;
  weight: Float32Array;
  bias: Float32Array;
  in: number;
  out: number;
}

export interface SafetensorsTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface SaveSafetensorsOptions {
  /** the header's `__metadata__` (str -> str); omitted when absent */
  metadata?: Record<string, string>;
}

function badArgument(problem: string): PthError {
  return new PthError('PTH_BAD_ARGUMENT', problem, 'pass float32 tensors whose length is the product of their shape');
}

function tensorsOf(model: { layers: SafetensorsLayer[] } | SafetensorsTensor[]): SafetensorsTensor[] {
  if (Array.isArray(model)) return model;
  return model.layers.flatMap((l, i) => {
    const name = l.name ?? `fc${i + 1}`;
    return [
      { name: `${name}.weight`, shape: [l.out, l.in], data: l.weight },
      { name: `${name}.bias`, shape: [l.out], data: l.bias },
    ];
  });
}

/**
 * Writes F32 safetensors: header keys and data in the given order (layer by layer, weight then bias), the data
 * contiguous from offset 0, the header padded with spaces to a multiple of 8 bytes as the Python package does.
 */
export function saveSafetensors(
  model: { layers: SafetensorsLayer[] } | SafetensorsTensor[],
  options: SaveSafetensorsOptions = {},
): Uint8Array {
  const tensors = tensorsOf(model);
  const header: Record<string, unknown> = {};
  if (options.metadata) {
    for (const [k, v] of Object.entries(options.metadata))
      if (typeof v !== 'string') throw badArgument(`metadata ${quote(k)} is not a string`);
    header.__metadata__ = options.metadata;
  }
  let offset = 0;
  const seen = new Set<string>();
  for (const t of tensors) {
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (!(t.data instanceof Float32Array) || t.data.length !== numel)
      throw badArgument(`tensor ${quote(t.name)} has ${t.data?.length} values for shape [${t.shape}]`);
    if (t.name === '__metadata__' || seen.has(t.name)) throw badArgument(`tensor name ${quote(t.name)} is taken`);
    seen.add(t.name);
    Object.defineProperty(header, t.name, {
      value: { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * numel] },
      enumerable: true,
      writable: true,
      configurable: true,
    });
    offset += 4 * numel;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, json.length, true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const t of tensors) {
    for (let i = 0; i < t.data.length; i++, pos += 4) view.setFloat32(pos, t.data[i], true);
  }
  return out;
}
