// The pickle opcodes, in one table: CPython's pickle.py names and byte values, and the argument each takes (the shape
// of pickletools' argument descriptors). readOp is the one decoder of where an opcode's argument lies and encodeOp its
// inverse: the VM and its global scan (pickle.ts), the writer (save.ts) and the tests' assembler and walker
// (test/craft.ts) all go through them, so none can frame an opcode differently from the others.

/** A number in the pickle: little-endian integers (int4 is signed), float8 a big-endian IEEE double. */
export type NumberFormat = 'uint1' | 'uint2' | 'int4' | 'uint4' | 'uint8' | 'float8';

/** What follows an opcode byte. */
export type ArgFormat =
  | { readonly kind: 'none' }
  /** one number, of `bytes` bytes */
  | { readonly kind: 'fixed'; readonly number: NumberFormat; readonly bytes: number }
  /** a length (a number of that format, of `bytes` bytes), then that many bytes */
  | { readonly kind: 'prefixed'; readonly number: NumberFormat; readonly bytes: number }
  /** newline-terminated lines of text */
  | { readonly kind: 'lines'; readonly lines: 1 | 2 };

const NUMBER_BYTES: Readonly<Record<NumberFormat, number>> = {
  uint1: 1,
  uint2: 2,
  int4: 4,
  uint4: 4,
  uint8: 8,
  float8: 8,
};

const none: ArgFormat = { kind: 'none' };
const fixed = (number: NumberFormat): ArgFormat => ({ kind: 'fixed', number, bytes: NUMBER_BYTES[number] });
const prefixed = (number: NumberFormat): ArgFormat => ({ kind: 'prefixed', number, bytes: NUMBER_BYTES[number] });
const line: ArgFormat = { kind: 'lines', lines: 1 };
const twoLines: ArgFormat = { kind: 'lines', lines: 2 };

/** name: [byte, argument], in pickle.py's order (protocols 0-1, then 2, 3, 4 and 5). */
const TABLE = {
  MARK: [0x28, none],
  STOP: [0x2e, none],
  POP: [0x30, none],
  POP_MARK: [0x31, none],
  DUP: [0x32, none],
  FLOAT: [0x46, line],
  INT: [0x49, line],
  BININT: [0x4a, fixed('int4')],
  BININT1: [0x4b, fixed('uint1')],
  LONG: [0x4c, line],
  BININT2: [0x4d, fixed('uint2')],
  NONE: [0x4e, none],
  PERSID: [0x50, line],
  BINPERSID: [0x51, none],
  REDUCE: [0x52, none],
  STRING: [0x53, line],
  BINSTRING: [0x54, prefixed('int4')],
  SHORT_BINSTRING: [0x55, prefixed('uint1')],
  UNICODE: [0x56, line],
  BINUNICODE: [0x58, prefixed('uint4')],
  APPEND: [0x61, none],
  BUILD: [0x62, none],
  GLOBAL: [0x63, twoLines],
  DICT: [0x64, none],
  EMPTY_DICT: [0x7d, none],
  APPENDS: [0x65, none],
  GET: [0x67, line],
  BINGET: [0x68, fixed('uint1')],
  INST: [0x69, twoLines],
  LONG_BINGET: [0x6a, fixed('uint4')],
  LIST: [0x6c, none],
  EMPTY_LIST: [0x5d, none],
  OBJ: [0x6f, none],
  PUT: [0x70, line],
  BINPUT: [0x71, fixed('uint1')],
  LONG_BINPUT: [0x72, fixed('uint4')],
  SETITEM: [0x73, none],
  TUPLE: [0x74, none],
  EMPTY_TUPLE: [0x29, none],
  SETITEMS: [0x75, none],
  BINFLOAT: [0x47, fixed('float8')],
  // protocol 2
  PROTO: [0x80, fixed('uint1')],
  NEWOBJ: [0x81, none],
  EXT1: [0x82, fixed('uint1')],
  EXT2: [0x83, fixed('uint2')],
  EXT4: [0x84, fixed('int4')],
  TUPLE1: [0x85, none],
  TUPLE2: [0x86, none],
  TUPLE3: [0x87, none],
  NEWTRUE: [0x88, none],
  NEWFALSE: [0x89, none],
  LONG1: [0x8a, prefixed('uint1')],
  LONG4: [0x8b, prefixed('int4')],
  // protocol 3
  BINBYTES: [0x42, prefixed('uint4')],
  SHORT_BINBYTES: [0x43, prefixed('uint1')],
  // protocol 4
  SHORT_BINUNICODE: [0x8c, prefixed('uint1')],
  BINUNICODE8: [0x8d, prefixed('uint8')],
  BINBYTES8: [0x8e, prefixed('uint8')],
  EMPTY_SET: [0x8f, none],
  ADDITEMS: [0x90, none],
  FROZENSET: [0x91, none],
  NEWOBJ_EX: [0x92, none],
  STACK_GLOBAL: [0x93, none],
  MEMOIZE: [0x94, none],
  FRAME: [0x95, fixed('uint8')],
  // protocol 5
  BYTEARRAY8: [0x96, prefixed('uint8')],
  NEXT_BUFFER: [0x97, none],
  READONLY_BUFFER: [0x98, none],
} as const satisfies Record<string, readonly [number, ArgFormat]>;

export type OpName = keyof typeof TABLE;

/** Opcode bytes by name: `OP.BINPUT === 0x71`. */
export const OP = Object.freeze(Object.fromEntries(Object.entries(TABLE).map(([name, [code]]) => [name, code]))) as {
  readonly [K in OpName]: number;
};

/** Every opcode byte, in the table's order. */
export const OPCODES: readonly number[] = Object.freeze(Object.values(OP));

/** The argument of each byte value; undefined for a byte that is no opcode. */
export const OP_ARG: readonly (ArgFormat | undefined)[] = (() => {
  const args = new Array<ArgFormat | undefined>(256).fill(undefined);
  for (const [code, arg] of Object.values(TABLE)) args[code] = arg;
  return Object.freeze(args);
})();

// ---------------------------------------------------------------------------------------------------------------------
// Reading

/**
 * Where one opcode and its argument lie, as readOp found them (one frame is reused along a walk: no allocation per
 * opcode). `op`, `start` and `end` are set for every opcode; the other fields only describe an argument (its format
 * is `OP_ARG[op]`).
 */
export class OpFrame {
  /** the opcode byte */
  op = 0;
  /** offset of the opcode byte */
  start = 0;
  /** just past the argument; more than bytes.length when the pickle ends inside it */
  end = 0;
  /** 'fixed': the number; 'prefixed': the length */
  value = 0;
  /**
   * The argument's payload [data, dataEnd): the bytes of a 'prefixed' argument, the text of a 'lines' argument without
   * its final newline (for two lines, `split` is the offset of the newline between them).
   */
  data = 0;
  split = 0;
  dataEnd = 0;
}

/**
 * 'ok'; 'unknown': the byte is no opcode; 'cut': the pickle ends inside a number, a length, or a line (no newline
 * before the end); 'long line': no newline within `maxLine` bytes; 'negative length': an int4 length below zero;
 * 'huge number': a uint8 of 2^53 or more, which a JS number does not hold exactly.
 */
export type OpStatus = 'ok' | 'unknown' | 'cut' | 'long line' | 'negative length' | 'huge number';

/**
 * Decodes the opcode at `pos` into `frame`. The bytes of a 'prefixed' argument may run past the end of `bytes` with
 * status 'ok' (`frame.end` says so): the length comes first, and the VM checks it (sign, bound) before the bytes.
 */
export function readOp(bytes: Uint8Array, pos: number, maxLine: number, frame: OpFrame): OpStatus {
  const op = bytes[pos];
  const arg = OP_ARG[op];
  frame.op = op;
  frame.start = pos;
  frame.end = pos + 1;
  let p = frame.end;
  if (arg === undefined) return 'unknown';
  if (arg.kind === 'none') return 'ok';
  const n = bytes.length;
  if (arg.kind === 'lines') {
    frame.data = p;
    for (let k = 0; k < arg.lines; k++) {
      const limit = Math.min(n, p + maxLine + 1);
      let i = p;
      while (i < limit && bytes[i] !== 0x0a) i++;
      if (i === limit) {
        frame.dataEnd = frame.end = n + 1;
        return limit === n ? 'cut' : 'long line';
      }
      if (k === 0) frame.split = i;
      frame.dataEnd = i;
      p = i + 1;
    }
    frame.end = p;
    return 'ok';
  }
  p += arg.bytes;
  frame.data = frame.dataEnd = frame.end = p;
  if (p > n) return 'cut';
  const value = readNumber(bytes, pos + 1, arg.number);
  frame.value = value;
  if (arg.number === 'uint8' && value >= 2 ** 53) return 'huge number';
  if (arg.kind === 'fixed') return 'ok';
  if (value < 0) return 'negative length';
  frame.dataEnd = frame.end = p + value;
  return 'ok';
}

function readNumber(b: Uint8Array, p: number, format: NumberFormat): number {
  switch (format) {
    case 'uint1':
      return b[p];
    case 'uint2':
      return b[p] | (b[p + 1] << 8);
    case 'int4':
      return b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);
    case 'uint4':
      return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
    case 'uint8':
      return readNumber(b, p, 'uint4') + readNumber(b, p + 4, 'uint4') * 0x1_0000_0000;
    case 'float8':
      return new DataView(b.buffer, b.byteOffset + p, 8).getFloat64(0, false);
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Writing

const utf8 = new TextEncoder();

/**
 * The bytes of `op` and what readOp reads as its argument: the number of a 'fixed' argument, the length of a
 * 'prefixed' one (its bytes are the caller's to append), the lines of a 'lines' one (UTF-8, each ended by a newline).
 * Numbers are written modulo their width, as the bytes of a two's complement integer (a test may want a lie).
 */
export function encodeOp(op: number, arg?: number | readonly string[]): number[] {
  const format = OP_ARG[op];
  const out = [op];
  if (format === undefined) throw new Error(`0x${op.toString(16)} is not a pickle opcode`);
  if (format.kind === 'none') {
    if (arg !== undefined) throw new Error(`opcode 0x${op.toString(16)} takes no argument`);
  } else if (format.kind === 'lines') {
    if (!Array.isArray(arg) || arg.length !== format.lines)
      throw new Error(`opcode 0x${op.toString(16)} takes ${format.lines} line(s)`);
    for (const text of arg as readonly string[]) out.push(...utf8.encode(text), 0x0a);
  } else {
    if (typeof arg !== 'number') throw new Error(`opcode 0x${op.toString(16)} takes a number`);
    out.push(...encodeNumber(arg, format.number));
  }
  return out;
}

function encodeNumber(v: number, format: NumberFormat): number[] {
  const b = new DataView(new ArrayBuffer(NUMBER_BYTES[format]));
  switch (format) {
    case 'uint1':
      b.setUint8(0, v);
      break;
    case 'uint2':
      b.setUint16(0, v, true);
      break;
    case 'int4':
      b.setInt32(0, v, true);
      break;
    case 'uint4':
      b.setUint32(0, v, true);
      break;
    case 'uint8':
      b.setUint32(0, v % 0x1_0000_0000, true);
      b.setUint32(4, Math.floor(v / 0x1_0000_0000), true);
      break;
    case 'float8':
      b.setFloat64(0, v, false);
      break;
  }
  return Array.from(new Uint8Array(b.buffer));
}
