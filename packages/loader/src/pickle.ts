// A small, safe pickle VM (protocols 0-5) for torch.save files: globals are resolved only through an allowlist of
// handlers, nothing from the file is ever called, dicts are Maps (a `__proto__` key is just a key), and memo, nesting,
// and sizes are bounded. Every value built or copied is charged to one Budget (budget.ts) before it is allocated; a memo
// GET pushes a reference, never a copy. Every failure is a PthError.
import { PthError, HINT_CORRUPT, HINT_RESAVE } from './errors.js';
import { Budget, COST, limitError } from './budget.js';
import { LIMITS } from './limits.js';
import { quote } from './text.js';

// ---------------------------------------------------------------------------------------------------------------------
// Values the VM produces

export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}
export class PyList {
  constructor(readonly items: PyValue[]) {}
}
export class PyDict {
  readonly map = new Map<unknown, PyValue>();
  /** instance attributes set by BUILD (OrderedDict's `_metadata` of a state_dict) */
  attrs: PyValue = null;
  constructor(readonly kind: string = 'dict') {}
}
/** An allowlisted global: an opaque token; the VM may call its handler, the file never can. */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string, readonly handler: GlobalHandler | null) {}
  get qualname(): string { return `${this.module}.${this.name}`; }
}
/** Anything a handler returns that is not a plain Python value (tensors, storages). */
export abstract class PyOpaque {}
/**
 * A bytes value used as a dict key: Python compares bytes keys by content (and never equal to a str), JS Maps compare
 * objects by identity, so equal contents share one interned BytesKey. Built once per bytes value (cached), so a key
 * used thousands of times through the memo is converted once.
 */
export class BytesKey {
  constructor(readonly latin1: string) {}
}

export type PyValue = null | boolean | number | bigint | string | Uint8Array | PyTuple | PyList | PyDict | PyGlobal | PyOpaque;

/** What a handler may use of the running VM: the budget to charge what it allocates, and the dict-key rule. */
export interface VmContext {
  readonly budget: Budget;
  /** the Map key for a Python dict key (bounded size, bytes interned, unhashable refused) */
  dictKey(k: PyValue): unknown;
}

export interface GlobalHandler {
  /** called for REDUCE / NEWOBJ / INST / OBJ with the argument tuple's items; absent = not callable. Must charge
   * `vm.budget` for whatever it allocates or copies, before allocating it. */
  call?: (args: PyValue[], self: PyGlobal, vm: VmContext) => PyValue;
  /** called for BUILD on a value this handler produced; absent = BUILD not allowed */
  build?: (target: PyValue, state: PyValue) => void;
}

export interface UnpickleOptions {
  /** 'module.name' -> handler. Anything else is refused. */
  globals: ReadonlyMap<string, GlobalHandler>;
  /** resolves a persistent id (BINPERSID/PERSID); absent = persistent ids are refused */
  persistentLoad?: (pid: PyValue) => PyValue;
  /** called for a global outside the allowlist to build the error (lets torch.ts tell a whole module from an attack) */
  refuseGlobal?: (module: string, name: string, pickle: Uint8Array, start: number) => PthError;
  /** what the pickle is, for messages: 'data.pkl' */
  label?: string;
  /** the read's one budget, shared by every pickle of a file; absent = a fresh one with LIMITS for this pickle */
  budget?: Budget;
}

function badPickle(what: string, label: string): PthError {
  return new PthError('PTH_BAD_PICKLE', `${label} is not a valid pickle (${what})`, HINT_CORRUPT);
}

// Nesting depth of containers, tracked when they are filled (containers are only ever nested through these paths).
const depthOf = new WeakMap<object, number>();
function depth(v: PyValue): number {
  return v !== null && typeof v === 'object' ? depthOf.get(v) ?? 1 : 0;
}

// ---------------------------------------------------------------------------------------------------------------------
// The VM

export interface UnpickleResult {
  value: PyValue;
  /** offset just past the STOP opcode (the legacy format stores several pickles back to back) */
  end: number;
}

/** Unpickles one pickle starting at `start`. */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions, start = 0): UnpickleResult {
  const label = options.label ?? 'pickle';
  const budget = options.budget ?? new Budget(LIMITS, bytes.length - start);
  const limits = budget.limits;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length;
  let pos = start;
  let stack: PyValue[] = [];
  const metastack: PyValue[][] = [];
  let stackTotal = 0;
  const memo = new Map<number, PyValue>();
  const latin1 = { decode: latin1Decode };

  const need = (k: number) => {
    if (pos + k > n || k < 0) {
      throw new PthError('PTH_TRUNCATED', `${label} ends in the middle of an opcode`, 'the file was cut short: get the whole file again');
    }
  };
  const u8 = () => { need(1); return bytes[pos++]; };
  const u16 = () => { need(2); const v = view.getUint16(pos, true); pos += 2; return v; };
  const i32 = () => { need(4); const v = view.getInt32(pos, true); pos += 4; return v; };
  const u32 = () => { need(4); const v = view.getUint32(pos, true); pos += 4; return v; };
  const u64 = () => {
    need(8);
    const lo = view.getUint32(pos, true), hi = view.getUint32(pos + 4, true);
    pos += 8;
    if (hi >= 0x200000) throw limitError('64-bit length of 2^53 bytes or more');
    return hi * 0x1_0000_0000 + lo;
  };
  const take = (k: number) => { need(k); const b = bytes.subarray(pos, pos + k); pos += k; return b; };
  const line = () => {
    const limit = Math.min(n, pos + limits.maxLineLength + 1);
    let i = pos;
    while (i < limit && bytes[i] !== 0x0a) i++;
    if (i === limit) { // no newline among the bytes scanned
      if (limit === n) throw new PthError('PTH_TRUNCATED', `${label} ends in the middle of a text opcode`, 'the file was cut short: get the whole file again');
      throw limitError(`text opcode line longer than ${limits.maxLineLength} bytes`);
    }
    const s = latin1.decode(bytes.subarray(pos, i));
    pos = i + 1;
    return s;
  };

  const push = (v: PyValue) => {
    if (++stackTotal > limits.maxStack) throw limitError(`stack of more than ${limits.maxStack} items`);
    stack.push(v);
  };
  const pop = (): PyValue => {
    if (stack.length === 0) throw badPickle('stack underflow', label);
    stackTotal--;
    return stack.pop() as PyValue;
  };
  const top = (): PyValue => {
    if (stack.length === 0) throw badPickle('stack underflow', label);
    return stack[stack.length - 1];
  };
  const popMark = (): PyValue[] => {
    const items = stack;
    const prev = metastack.pop();
    if (prev === undefined) throw badPickle('no MARK on the stack', label);
    stack = prev;
    stackTotal -= items.length;
    return items;
  };
  const nest = (container: object, children: Iterable<PyValue>, base?: number) => {
    let d = base ?? depthOf.get(container) ?? 1;
    for (const c of children) d = Math.max(d, depth(c) + 1);
    if (d > limits.maxNesting) throw limitError(`containers nested more than ${limits.maxNesting} deep`);
    depthOf.set(container, d);
  };
  // every container built from stack items charges its size (the items array is the stack's own: no copy)
  const tuple = (items: PyValue[]) => {
    budget.sequence(items.length);
    const t = new PyTuple(items);
    nest(t, items);
    return t;
  };
  const findGlobal = (module: string, name: string): PyGlobal => {
    // no allowlisted name is long: skip building (and hashing) a huge string for the lookup
    const handler = module.length + name.length <= GLOBAL_NAME_CAP ? options.globals.get(`${module}.${name}`) : undefined;
    if (handler === undefined) {
      if (options.refuseGlobal) throw options.refuseGlobal(module, name, bytes, start);
      throw new PthError('PTH_UNSAFE_GLOBAL', `${label} references the global ${quote(module)}.${quote(name)}, which is not allowed`, 'only state_dicts of tensors are loaded: ' + HINT_RESAVE);
    }
    budget.object();
    return new PyGlobal(module, name, handler);
  };
  // Dict keys: primitives by value, bytes by content (interned once per value), containers refused. Size-bounded, so
  // hashing a key is cheap however often the memo repeats it. Never an object's own property (dicts are Maps).
  const bytesKeys = new WeakMap<Uint8Array, BytesKey>();
  const interned = new Map<string, BytesKey>();
  const dictKey = (k: PyValue): unknown => {
    if (typeof k === 'string') {
      if (k.length > limits.maxKeyLength) throw limitError(`dict key of ${k.length} characters, more than ${limits.maxKeyLength}: ${quote(k)}`);
      return k;
    }
    if (k instanceof Uint8Array) {
      let key = bytesKeys.get(k);
      if (key === undefined) {
        if (k.length > limits.maxKeyLength) throw limitError(`bytes dict key of ${k.length} bytes, more than ${limits.maxKeyLength}: ${quote(k)}`);
        const text = latin1Decode(k);
        key = interned.get(text);
        if (key === undefined) {
          budget.string(text.length);
          key = new BytesKey(text);
          interned.set(text, key);
        }
        bytesKeys.set(k, key);
      }
      return key;
    }
    if (k instanceof PyList || k instanceof PyDict) throw badPickle('unhashable dict key', label);
    return k;
  };
  const vm: VmContext = { budget, dictKey };
  const call = (callable: PyValue, args: PyValue, how: string): PyValue => {
    if (!(callable instanceof PyGlobal)) throw badPickle(`${how} of something that is not an allowed global`, label);
    if (!(args instanceof PyTuple)) throw badPickle(`${how} arguments are not a tuple`, label);
    if (!callable.handler?.call) throw badPickle(`${quote(callable.qualname)} is not callable`, label);
    const result = callable.handler.call(args.items, callable, vm);
    if (result !== null && typeof result === 'object' && !(result instanceof PyGlobal)) builtBy.set(result, callable);
    return result;
  };
  const builtBy = new WeakMap<object, PyGlobal>();
  const setItems = (dict: PyValue, items: PyValue[]) => {
    if (!(dict instanceof PyDict)) throw badPickle('SETITEM(S) on something that is not a dict', label);
    if (items.length % 2 !== 0) throw badPickle('odd number of items for SETITEMS', label);
    // charged per item set, even when a repeated key leaves the dict as large as it was: the work was done
    budget.charge(COST.entry * (items.length / 2), 0);
    for (let i = 0; i < items.length; i += 2) dict.map.set(dictKey(items[i]), items[i + 1]);
    nest(dict, items);
  };
  const appendItems = (list: PyValue, items: PyValue[]) => {
    if (!(list instanceof PyList)) throw badPickle('APPEND(S) on something that is not a list', label);
    budget.charge(COST.item * items.length, 0);
    for (const v of items) list.items.push(v);
    nest(list, items);
  };
  const memoPut = (index: number) => {
    if (!Number.isSafeInteger(index) || index < 0) throw badPickle('bad memo index', label);
    if (!memo.has(index) && memo.size >= limits.maxMemo) throw limitError(`more than ${limits.maxMemo} memo entries`);
    memo.set(index, top());
  };
  const memoGet = (index: number) => {
    // a reference to the memoized object, never a copy: repeating it costs a stack slot, nothing more
    const v = memo.get(index);
    if (v === undefined) throw badPickle(`memo entry ${index} read before it was written`, label);
    push(v);
  };
  const parseIntLine = (s: string): number | bigint => {
    const t = s.endsWith('L') ? s.slice(0, -1) : s;
    // Python's own bound on decimal literals is 4300 digits
    if (!/^[+-]?\d{1,4300}$/.test(t)) throw badPickle(`bad integer literal "${quote(s, 20)}"`, label);
    const b = BigInt(t);
    if (b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(b);
    budget.object(t.length >> 1);
    return b;
  };
  const decodeLong = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    if (b.length > limits.maxLongBytes) throw limitError(`integer longer than ${limits.maxLongBytes} bytes`);
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    if (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
    budget.object(b.length);
    return v;
  };
  // strings and bytes: charged before they are decoded or copied out of the pickle
  const text = (k: number, decode: (b: Uint8Array) => string): string => {
    need(k);
    budget.string(k); // UTF-8/latin1 bytes >= characters: an upper bound
    return decode(take(k));
  };
  const bytesCopy = (k: number): Uint8Array => {
    need(k);
    budget.bytesValue(k);
    return take(k).slice();
  };
  const lineString = (s: string): string => {
    budget.string(s.length);
    return s;
  };

  while (true) {
    if (pos >= n) throw new PthError('PTH_TRUNCATED', `${label} ends before its STOP opcode`, 'the file was cut short: get the whole file again');
    const op = bytes[pos++];
    switch (op) {
      case 0x80: { // PROTO
        const v = u8();
        if (v > 5) throw new PthError('PTH_UNSUPPORTED', `${label} uses pickle protocol ${v}`, 'only protocols 0-5 exist: the file is damaged or not a .pth');
        break;
      }
      case 0x95: u64(); break; // FRAME: frames are only a hint for buffered readers
      case 0x2e: { // STOP
        const value = pop();
        return { value, end: pos };
      }
      // --- stack manipulation
      case 0x28: // MARK
        if (metastack.length >= limits.maxMarkDepth) throw limitError(`MARKs nested more than ${limits.maxMarkDepth} deep`);
        metastack.push(stack);
        stack = [];
        break;
      case 0x31: popMark(); break; // POP_MARK
      case 0x30: pop(); break; // POP
      case 0x32: push(top()); break; // DUP
      // --- memo
      case 0x70: memoPut(Number(parseIntLine(line()))); break; // PUT
      case 0x71: memoPut(u8()); break; // BINPUT
      case 0x72: memoPut(u32()); break; // LONG_BINPUT
      case 0x94: memoPut(memo.size); break; // MEMOIZE
      case 0x67: memoGet(Number(parseIntLine(line()))); break; // GET
      case 0x68: memoGet(u8()); break; // BINGET
      case 0x6a: memoGet(u32()); break; // LONG_BINGET
      // --- constants
      case 0x4e: push(null); break; // NONE
      case 0x88: push(true); break; // NEWTRUE
      case 0x89: push(false); break; // NEWFALSE
      case 0x49: { // INT
        const s = line();
        push(s === '01' ? true : s === '00' ? false : parseIntLine(s));
        break;
      }
      case 0x4c: push(parseIntLine(line())); break; // LONG
      case 0x4a: push(i32()); break; // BININT
      case 0x4b: push(u8()); break; // BININT1
      case 0x4d: push(u16()); break; // BININT2
      case 0x8a: push(decodeLong(take(u8()))); break; // LONG1
      case 0x8b: { // LONG4
        const len = i32();
        if (len < 0) throw badPickle('negative LONG4 length', label);
        if (len > limits.maxLongBytes) throw limitError(`integer longer than ${limits.maxLongBytes} bytes`);
        push(decodeLong(take(len)));
        break;
      }
      case 0x46: { // FLOAT
        const s = line().trim();
        const v = Number(s);
        if (s === '' || (Number.isNaN(v) && !/^[+-]?nan$/i.test(s))) throw badPickle(`bad float literal "${quote(s, 20)}"`, label);
        push(v);
        break;
      }
      case 0x47: { need(8); push(view.getFloat64(pos, false)); pos += 8; break; } // BINFLOAT (big-endian)
      // --- strings and bytes
      case 0x53: push(lineString(unescapeString(line(), label))); break; // STRING (protocol 0, quoted)
      case 0x54: { const len = i32(); if (len < 0) throw badPickle('negative length', label); push(text(len, latin1.decode)); break; } // BINSTRING
      case 0x55: push(text(u8(), latin1.decode)); break; // SHORT_BINSTRING
      case 0x56: push(lineString(rawUnicodeUnescape(line()))); break; // UNICODE
      case 0x58: push(text(u32(), utf8Decode)); break; // BINUNICODE
      case 0x8c: push(text(u8(), utf8Decode)); break; // SHORT_BINUNICODE
      case 0x8d: push(text(u64(), utf8Decode)); break; // BINUNICODE8
      case 0x42: push(bytesCopy(u32())); break; // BINBYTES
      case 0x43: push(bytesCopy(u8())); break; // SHORT_BINBYTES
      case 0x8e: push(bytesCopy(u64())); break; // BINBYTES8
      case 0x96: push(bytesCopy(u64())); break; // BYTEARRAY8
      case 0x97: throw new PthError('PTH_UNSUPPORTED', `${label} uses out-of-band buffers (NEXT_BUFFER)`, 'torch.save never writes them: ' + HINT_RESAVE);
      case 0x98: break; // READONLY_BUFFER: no-op on our immutable copies
      // --- containers
      case 0x29: push(tuple([])); break; // EMPTY_TUPLE
      case 0x74: push(tuple(popMark())); break; // TUPLE
      case 0x85: { const a = pop(); push(tuple([a])); break; } // TUPLE1
      case 0x86: { const b = pop(), a = pop(); push(tuple([a, b])); break; } // TUPLE2
      case 0x87: { const c = pop(), b = pop(), a = pop(); push(tuple([a, b, c])); break; } // TUPLE3
      case 0x5d: budget.sequence(0); push(new PyList([])); break; // EMPTY_LIST
      case 0x6c: { const items = popMark(); budget.sequence(items.length); const l = new PyList(items); nest(l, items); push(l); break; } // LIST
      case 0x61: { const v = pop(); appendItems(top(), [v]); break; } // APPEND
      case 0x65: { const items = popMark(); appendItems(top(), items); break; } // APPENDS
      case 0x7d: budget.dict(0); push(new PyDict()); break; // EMPTY_DICT
      case 0x64: { const items = popMark(); budget.dict(0); const d = new PyDict(); setItems(d, items); push(d); break; } // DICT
      case 0x73: { const v = pop(), k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x8f: budget.sequence(0); push(new PyList([])); break; // EMPTY_SET (sets are kept as lists: never used by a state_dict)
      case 0x90: { const items = popMark(); appendItems(top(), items); break; } // ADDITEMS
      case 0x91: { const items = popMark(); budget.sequence(items.length); const l = new PyList(items); nest(l, items); push(l); break; } // FROZENSET
      // --- globals and calls: every global goes through findGlobal's allowlist
      case 0x63: { // GLOBAL
        const module = line(), name = line();
        push(findGlobal(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop(), module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw badPickle('STACK_GLOBAL with non-string names', label);
        push(findGlobal(module, name));
        break;
      }
      case 0x82: case 0x83: case 0x84: { // EXT1, EXT2, EXT4: the copyreg extension registry names arbitrary globals
        const code = op === 0x82 ? u8() : op === 0x83 ? u16() : i32();
        throw new PthError('PTH_UNSAFE_GLOBAL', `${label} references extension code ${code} (a global through the copyreg registry), which is not allowed`, 'only state_dicts of tensors are loaded: ' + HINT_RESAVE);
      }
      case 0x69: { // INST module name: MARK args...
        const module = line(), name = line();
        const cls = findGlobal(module, name);
        push(call(cls, tuple(popMark()), 'INST'));
        break;
      }
      case 0x6f: { // OBJ: MARK cls args...
        const items = popMark();
        if (items.length === 0) throw badPickle('OBJ without a class', label);
        push(call(items[0], tuple(items.slice(1)), 'OBJ'));
        break;
      }
      case 0x52: { const args = pop(), f = pop(); push(call(f, args, 'REDUCE')); break; } // REDUCE
      case 0x81: { const args = pop(), cls = pop(); push(call(cls, args, 'NEWOBJ')); break; } // NEWOBJ
      case 0x92: { // NEWOBJ_EX
        const kwargs = pop(), args = pop(), cls = pop();
        if (!(kwargs instanceof PyDict) || kwargs.map.size > 0) throw badPickle('NEWOBJ_EX with keyword arguments', label);
        push(call(cls, args, 'NEWOBJ_EX'));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        const target = top();
        if (target instanceof PyDict && (target.kind === 'OrderedDict' || target.kind === 'dict')) {
          // OrderedDict.__reduce__ sends its __dict__ (a state_dict's `_metadata`) as BUILD state; keep it aside
          target.attrs = state;
          break;
        }
        const maker = target !== null && typeof target === 'object' ? builtBy.get(target) : undefined;
        if (!maker?.handler?.build) throw badPickle('BUILD on an object that takes no state', label);
        maker.handler.build(target, state);
        break;
      }
      case 0x50: // PERSID
      case 0x51: { // BINPERSID
        const pid = op === 0x50 ? lineString(line()) : pop();
        if (!options.persistentLoad) throw badPickle('persistent id outside a torch file', label);
        push(options.persistentLoad(pid));
        break;
      }
      default:
        throw badPickle(`unknown opcode 0x${op.toString(16).padStart(2, '0')} at byte ${pos - 1}`, label);
    }
  }
}

/** Bytes -> string, one char per byte (TextDecoder's 'latin1' is really windows-1252 and remaps 0x80-0x9f). */
export function latin1Decode(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode.apply(null, b.subarray(i, i + 8192) as unknown as number[]);
  return s;
}

const utf8Decoder = new TextDecoder('utf-8');
function utf8Decode(b: Uint8Array): string {
  return utf8Decoder.decode(b);
}

/** Module or name longer than this: no allowlisted global, and no Python class a model file names (treated as hostile). */
export const GLOBAL_NAME_CAP = 256;

function unescapeString(s: string, label: string): string {
  const q = s[0];
  if (s.length < 2 || (q !== "'" && q !== '"') || s[s.length - 1] !== q) throw badPickle('STRING opcode argument is not quoted', label);
  return s.slice(1, -1).replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8) & 0xff);
    return ({ n: '\n', r: '\r', t: '\t', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v' } as Record<string, string>)[e] ?? '\\' + e;
  });
}

function rawUnicodeUnescape(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, a?: string, b?: string) => {
    const cp = parseInt((a ?? b) as string, 16);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
  });
}

/**
 * Lists the globals a pickle names without running it: walks the opcodes like pickletools.genops, recording GLOBAL/INST
 * arguments and, for STACK_GLOBAL, the last two strings pushed (memo reads of strings included). Used only to word the
 * error for a refused global (a whole nn.Module vs. an attack), so it never throws. Names are decoded at most
 * GLOBAL_NAME_CAP + 1 characters long, so a memoized 48 MB string named a thousand times costs nothing.
 */
export function scanGlobals(bytes: Uint8Array, start = 0): string[] {
  const found: string[] = [];
  const n = bytes.length;
  // a longer result than GLOBAL_NAME_CAP means "longer than the cap": the caller treats it as hostile
  const latin1 = { decode: (b: Uint8Array) => latin1Decode(b.subarray(0, GLOBAL_NAME_CAP + 1)) };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const memo = new Map<number, string>();
  let last: (string | null)[] = [null, null];
  let memoCount = 0;
  const line = (p: number) => { let i = p; while (i < n && bytes[i] !== 0x0a) i++; return i; };
  let p = start;
  const fixed: Record<number, number> = { 0x80: 1, 0x95: 8, 0x71: 1, 0x72: 4, 0x68: 1, 0x6a: 4, 0x4a: 4, 0x4b: 1, 0x4d: 2, 0x47: 8, 0x82: 1, 0x83: 2, 0x84: 4 };
  const pushStr = (s: string | null) => { last = [last[1], s]; };
  while (p < n && found.length < 1000) {
    const op = bytes[p++];
    if (op === 0x2e) break;
    if (op === 0x63 || op === 0x69) {
      const a = line(p), b = line(a + 1);
      if (b >= n) break;
      found.push(`${latin1.decode(bytes.subarray(p, a))}.${latin1.decode(bytes.subarray(a + 1, b))}`);
      p = b + 1;
      pushStr(null);
    } else if (op === 0x46 || op === 0x49 || op === 0x4c || op === 0x53 || op === 0x56 || op === 0x67 || op === 0x70 || op === 0x50) {
      const e = line(p);
      if (op === 0x56) pushStr(latin1.decode(bytes.subarray(p, e)));
      else if (op !== 0x70) pushStr(null);
      p = e + 1;
    } else if (op in fixed) {
      if (op === 0x68 || op === 0x6a) {
        const k = op === 0x68 ? bytes[p] : p + 4 <= n ? view.getUint32(p, true) : -1;
        pushStr(memo.get(k) ?? null);
      } else if (op === 0x71 || op === 0x72) {
        const k = op === 0x71 ? bytes[p] : p + 4 <= n ? view.getUint32(p, true) : -1;
        if (last[1] !== null) memo.set(k, last[1]);
      } else if (op !== 0x80 && op !== 0x95) pushStr(null);
      p += fixed[op];
    } else if (op === 0x94) {
      if (last[1] !== null) memo.set(memoCount, last[1]);
      memoCount++;
    } else if ([0x8a, 0x55, 0x8c, 0x43].includes(op)) {
      if (p >= n) break;
      const len = bytes[p];
      if (op === 0x8c || op === 0x55) pushStr(latin1.decode(bytes.subarray(p + 1, p + 1 + len)));
      else pushStr(null);
      p += 1 + len;
    } else if ([0x8b, 0x54, 0x58, 0x42].includes(op)) {
      if (p + 4 > n) break;
      const len = view.getUint32(p, true);
      if (op === 0x58 || op === 0x54) pushStr(latin1.decode(bytes.subarray(p + 4, p + 4 + len)));
      else pushStr(null);
      p += 4 + len;
    } else if ([0x8d, 0x8e, 0x96].includes(op)) {
      if (p + 8 > n) break;
      const len = view.getUint32(p, true) + view.getUint32(p + 4, true) * 0x1_0000_0000;
      if (op === 0x8d) pushStr(latin1.decode(bytes.subarray(p + 8, Math.min(n, p + 8 + len))));
      else pushStr(null);
      p += 8 + len;
    } else if (op === 0x93) {
      if (last[0] !== null && last[1] !== null) found.push(`${last[0]}.${last[1]}`);
      pushStr(null);
    } else {
      // opcodes without arguments (MARK, TUPLE, REDUCE, ...) do not reset the string window except pushes of values
      if (op !== 0x28) pushStr(null);
    }
  }
  return found;
}
