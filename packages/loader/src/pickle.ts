// A small, safe pickle VM (protocols 0-5) for torch.save files: globals are resolved only through an allowlist of
// handlers, nothing from the file is ever called, dicts are Maps (a `__proto__` key is just a key), and memo, nesting,
// and sizes are bounded. Every value built or copied is charged to one Budget (budget.ts) before it is allocated; a memo
// GET pushes a reference, never a copy. Every failure is a PthError. Opcodes and where their arguments lie come from
// opcodes.ts (readOp), as they do for scanGlobals below, so the VM and the scan cannot read a pickle differently.
import { PthError, HINT_CORRUPT, HINT_RESAVE, HINT_TRUNCATED } from './errors.js';
import { Budget, COST, limitError } from './budget.js';
import { LIMITS } from './limits.js';
import { OP, OP_ARG, OpFrame, readOp, type OpStatus } from './opcodes.js';
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
  constructor(
    readonly module: string,
    readonly name: string,
    readonly handler: GlobalHandler | null,
  ) {}
  get qualname(): string {
    return `${this.module}.${this.name}`;
  }
}
/**
 * A Python float, when the unpickle asked for floats apart (`floats: 'boxed'`): a JS number cannot tell 1.0 from 1,
 * and a checkpoint's values must round-trip with their Python types. By default floats are plain numbers.
 */
export class PyFloat {
  constructor(readonly value: number) {}
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

export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | PyFloat
  | string
  | Uint8Array
  | PyTuple
  | PyList
  | PyDict
  | PyGlobal
  | PyOpaque;

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
  /** 'boxed': floats are pushed as PyFloat (charged as objects), so that ints and floats stay apart */
  floats?: 'boxed';
}

function badPickle(what: string, label: string): PthError {
  return new PthError('PTH_BAD_PICKLE', `${label} is not a valid pickle (${what})`, HINT_CORRUPT);
}

// Nesting depth of containers, tracked when they are filled (containers are only ever nested through these paths).
const depthOf = new WeakMap<object, number>();
function depth(v: PyValue): number {
  return v !== null && typeof v === 'object' ? (depthOf.get(v) ?? 1) : 0;
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
  const n = bytes.length;
  let pos = start;
  let stack: PyValue[] = [];
  const metastack: PyValue[][] = [];
  let stackTotal = 0;
  const memo = new Map<number, PyValue>();
  // the opcode being run: where its argument lies (readOp frames every opcode, here and in scanGlobals)
  const frame = new OpFrame();
  const frameError = (status: Exclude<OpStatus, 'ok'>): PthError => {
    switch (status) {
      case 'unknown':
        return badPickle(`unknown opcode 0x${frame.op.toString(16).padStart(2, '0')} at byte ${frame.start}`, label);
      case 'long line':
        return limitError(`text opcode line longer than ${limits.maxLineLength} bytes`);
      case 'negative length':
        return badPickle(frame.op === OP.LONG4 ? 'negative LONG4 length' : 'negative length', label);
      case 'huge number':
        return limitError('64-bit length of 2^53 bytes or more');
      case 'cut':
        return new PthError(
          'PTH_TRUNCATED',
          `${label} ends in the middle of ${OP_ARG[frame.op]?.kind === 'lines' ? 'a text opcode' : 'an opcode'}`,
          HINT_TRUNCATED,
        );
    }
  };
  // the bytes of a length-prefixed argument, once the pickle is known to hold them all
  const payload = (): Uint8Array => {
    if (frame.end > n) throw frameError('cut');
    return bytes.subarray(frame.data, frame.dataEnd);
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
    const handler =
      module.length + name.length <= GLOBAL_NAME_CAP ? options.globals.get(`${module}.${name}`) : undefined;
    if (handler === undefined) {
      if (options.refuseGlobal) throw options.refuseGlobal(module, name, bytes, start);
      throw new PthError(
        'PTH_UNSAFE_GLOBAL',
        `${label} references the global ${quote(module)}.${quote(name)}, which is not allowed`,
        'only state_dicts of tensors are loaded: ' + HINT_RESAVE,
      );
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
      if (k.length > limits.maxKeyLength)
        throw limitError(`dict key of ${k.length} characters, more than ${limits.maxKeyLength}: ${quote(k)}`);
      return k;
    }
    if (k instanceof Uint8Array) {
      let key = bytesKeys.get(k);
      if (key === undefined) {
        if (k.length > limits.maxKeyLength)
          throw limitError(`bytes dict key of ${k.length} bytes, more than ${limits.maxKeyLength}: ${quote(k)}`);
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
  const float = (v: number): PyValue => {
    if (options.floats !== 'boxed') return v;
    budget.object(8);
    return new PyFloat(v);
  };
  const lineString = (s: string): string => {
    budget.string(s.length);
    return s;
  };

  while (true) {
    if (pos >= n) throw new PthError('PTH_TRUNCATED', `${label} ends before its STOP opcode`, HINT_TRUNCATED);
    const status = readOp(bytes, pos, limits.maxLineLength, frame);
    if (status !== 'ok') throw frameError(status);
    const op = frame.op;
    pos = frame.end;
    switch (op) {
      case OP.PROTO:
        if (frame.value > 5)
          throw new PthError(
            'PTH_UNSUPPORTED',
            `${label} uses pickle protocol ${frame.value}`,
            'only protocols 0-5 exist: the file is damaged or not a .pth',
          );
        break;
      case OP.FRAME:
        break; // frames are only a hint for buffered readers
      case OP.STOP:
        return { value: pop(), end: pos };
      // --- stack manipulation
      case OP.MARK:
        if (metastack.length >= limits.maxMarkDepth)
          throw limitError(`MARKs nested more than ${limits.maxMarkDepth} deep`);
        metastack.push(stack);
        stack = [];
        break;
      case OP.POP_MARK:
        popMark();
        break;
      case OP.POP:
        pop();
        break;
      case OP.DUP:
        push(top());
        break;
      // --- memo
      case OP.PUT:
        memoPut(Number(parseIntLine(lineText(bytes, frame))));
        break;
      case OP.BINPUT:
      case OP.LONG_BINPUT:
        memoPut(frame.value);
        break;
      case OP.MEMOIZE:
        memoPut(memo.size);
        break;
      case OP.GET:
        memoGet(Number(parseIntLine(lineText(bytes, frame))));
        break;
      case OP.BINGET:
      case OP.LONG_BINGET:
        memoGet(frame.value);
        break;
      // --- constants
      case OP.NONE:
        push(null);
        break;
      case OP.NEWTRUE:
        push(true);
        break;
      case OP.NEWFALSE:
        push(false);
        break;
      case OP.INT: {
        const s = lineText(bytes, frame);
        push(s === '01' ? true : s === '00' ? false : parseIntLine(s));
        break;
      }
      case OP.LONG:
        push(parseIntLine(lineText(bytes, frame)));
        break;
      case OP.BININT:
      case OP.BININT1:
      case OP.BININT2:
        push(frame.value);
        break;
      case OP.LONG1:
        push(decodeLong(payload()));
        break;
      case OP.LONG4:
        if (frame.value > limits.maxLongBytes) throw limitError(`integer longer than ${limits.maxLongBytes} bytes`);
        push(decodeLong(payload()));
        break;
      case OP.FLOAT: {
        const s = lineText(bytes, frame).trim();
        const v = Number(s);
        if (s === '' || (Number.isNaN(v) && !/^[+-]?nan$/i.test(s)))
          throw badPickle(`bad float literal "${quote(s, 20)}"`, label);
        push(float(v));
        break;
      }
      case OP.BINFLOAT:
        push(float(frame.value));
        break;
      // --- strings and bytes: a length-prefixed one is charged before it is decoded or copied out of the pickle
      case OP.STRING:
      case OP.UNICODE:
        push(lineString(stringArg(bytes, frame, label)));
        break;
      case OP.BINSTRING:
      case OP.SHORT_BINSTRING:
      case OP.BINUNICODE:
      case OP.SHORT_BINUNICODE:
      case OP.BINUNICODE8:
        budget.string(payload().length); // UTF-8/latin1 bytes >= characters: an upper bound
        push(stringArg(bytes, frame, label));
        break;
      case OP.BINBYTES:
      case OP.SHORT_BINBYTES:
      case OP.BINBYTES8:
      case OP.BYTEARRAY8: {
        const b = payload();
        budget.bytesValue(b.length);
        push(b.slice());
        break;
      }
      case OP.NEXT_BUFFER:
        throw new PthError(
          'PTH_UNSUPPORTED',
          `${label} uses out-of-band buffers (NEXT_BUFFER)`,
          'torch.save never writes them: ' + HINT_RESAVE,
        );
      case OP.READONLY_BUFFER:
        break; // a no-op on our immutable copies
      // --- containers
      case OP.EMPTY_TUPLE:
        push(tuple([]));
        break;
      case OP.TUPLE:
        push(tuple(popMark()));
        break;
      case OP.TUPLE1: {
        const a = pop();
        push(tuple([a]));
        break;
      }
      case OP.TUPLE2: {
        const b = pop(),
          a = pop();
        push(tuple([a, b]));
        break;
      }
      case OP.TUPLE3: {
        const c = pop(),
          b = pop(),
          a = pop();
        push(tuple([a, b, c]));
        break;
      }
      case OP.EMPTY_LIST:
        budget.sequence(0);
        push(new PyList([]));
        break;
      case OP.LIST: {
        const items = popMark();
        budget.sequence(items.length);
        const l = new PyList(items);
        nest(l, items);
        push(l);
        break;
      }
      case OP.APPEND: {
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case OP.APPENDS: {
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case OP.EMPTY_DICT:
        budget.dict(0);
        push(new PyDict());
        break;
      case OP.DICT: {
        const items = popMark();
        budget.dict(0);
        const d = new PyDict();
        setItems(d, items);
        push(d);
        break;
      }
      case OP.SETITEM: {
        const v = pop(),
          k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case OP.SETITEMS: {
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case OP.EMPTY_SET:
        budget.sequence(0);
        push(new PyList([]));
        break; // sets are kept as lists: never used by a state_dict
      case OP.ADDITEMS: {
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case OP.FROZENSET: {
        const items = popMark();
        budget.sequence(items.length);
        const l = new PyList(items);
        nest(l, items);
        push(l);
        break;
      }
      // --- globals and calls: every global goes through findGlobal's allowlist
      case OP.GLOBAL: {
        const [module, name] = globalArg(bytes, frame);
        push(findGlobal(module, name));
        break;
      }
      case OP.STACK_GLOBAL: {
        const name = pop(),
          module = pop();
        if (typeof module !== 'string' || typeof name !== 'string')
          throw badPickle('STACK_GLOBAL with non-string names', label);
        push(findGlobal(module, name));
        break;
      }
      case OP.EXT1:
      case OP.EXT2:
      case OP.EXT4: // the copyreg extension registry names arbitrary globals
        throw new PthError(
          'PTH_UNSAFE_GLOBAL',
          `${label} references extension code ${frame.value} (a global through the copyreg registry), which is not allowed`,
          'only state_dicts of tensors are loaded: ' + HINT_RESAVE,
        );
      case OP.INST: {
        // INST module name: MARK args...
        const [module, name] = globalArg(bytes, frame);
        const cls = findGlobal(module, name);
        push(call(cls, tuple(popMark()), 'INST'));
        break;
      }
      case OP.OBJ: {
        // OBJ: MARK cls args...
        const items = popMark();
        if (items.length === 0) throw badPickle('OBJ without a class', label);
        push(call(items[0], tuple(items.slice(1)), 'OBJ'));
        break;
      }
      case OP.REDUCE: {
        const args = pop(),
          f = pop();
        push(call(f, args, 'REDUCE'));
        break;
      }
      case OP.NEWOBJ: {
        const args = pop(),
          cls = pop();
        push(call(cls, args, 'NEWOBJ'));
        break;
      }
      case OP.NEWOBJ_EX: {
        const kwargs = pop(),
          args = pop(),
          cls = pop();
        if (!(kwargs instanceof PyDict) || kwargs.map.size > 0)
          throw badPickle('NEWOBJ_EX with keyword arguments', label);
        push(call(cls, args, 'NEWOBJ_EX'));
        break;
      }
      case OP.BUILD: {
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
      case OP.PERSID:
      case OP.BINPERSID: {
        const pid = op === OP.PERSID ? lineString(lineText(bytes, frame)) : pop();
        if (!options.persistentLoad) throw badPickle('persistent id outside a torch file', label);
        push(options.persistentLoad(pid));
        break;
      }
    }
  }
}

/** Bytes -> string, one char per byte (TextDecoder's 'latin1' is really windows-1252 and remaps 0x80-0x9f). */
function latin1Decode(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192)
    s += String.fromCharCode.apply(null, b.subarray(i, i + 8192) as unknown as number[]);
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
  if (s.length < 2 || (q !== "'" && q !== '"') || s[s.length - 1] !== q)
    throw badPickle('STRING opcode argument is not quoted', label);
  return s.slice(1, -1).replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8) & 0xff);
    return (
      (
        { n: '\n', r: '\r', t: '\t', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v' } as Record<
          string,
          string
        >
      )[e] ?? '\\' + e
    );
  });
}

function rawUnicodeUnescape(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, a?: string, b?: string) => {
    const cp = parseInt((a ?? b) as string, 16);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
  });
}

/** The text of a one-line argument (text opcodes are read as latin1). */
function lineText(bytes: Uint8Array, frame: OpFrame): string {
  return latin1Decode(bytes.subarray(frame.data, frame.dataEnd));
}

/** The module and name lines of GLOBAL and INST, each cut to `cap` bytes. */
function globalArg(bytes: Uint8Array, frame: OpFrame, cap = Infinity): [string, string] {
  const line = (from: number, to: number) => latin1Decode(bytes.subarray(from, Math.min(to, from + cap)));
  return [line(frame.data, frame.split), line(frame.split + 1, frame.dataEnd)];
}

const STRING_OPS: ReadonlySet<number> = new Set([
  OP.STRING,
  OP.UNICODE,
  OP.BINSTRING,
  OP.SHORT_BINSTRING,
  OP.BINUNICODE,
  OP.SHORT_BINUNICODE,
  OP.BINUNICODE8,
]);

/**
 * The str a string opcode pushes, its argument known to be whole. Past `cap` bytes the text no longer matters (a name
 * that long is hostile): its first `cap` bytes stand for it.
 */
function stringArg(bytes: Uint8Array, frame: OpFrame, label: string, cap = Infinity): string {
  const b = bytes.subarray(frame.data, frame.dataEnd);
  if (b.length > cap) return latin1Decode(b.subarray(0, cap));
  switch (frame.op) {
    case OP.STRING:
      return unescapeString(latin1Decode(b), label); // protocol 0: a quoted literal with escapes
    case OP.UNICODE:
      return rawUnicodeUnescape(latin1Decode(b));
    case OP.BINSTRING:
    case OP.SHORT_BINSTRING:
      return latin1Decode(b);
    default:
      return utf8Decode(b); // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
  }
}

/** What scanGlobals found: the globals named, and whether names may be hidden behind more memo entries than it keeps. */
export interface GlobalScan {
  globals: string[];
  /** the memo grew past LIMITS.maxMemo (where the VM stops): names read through later entries are unknown */
  memoOverflow: boolean;
}

/**
 * Lists the globals a pickle names without running it: walks the opcodes with the VM's readOp (so it frames every
 * opcode as the VM does, and stops where the VM would), recording GLOBAL/INST arguments and, for STACK_GLOBAL, the last
 * two strings pushed (memo reads of strings included), decoded as the VM decodes them. Used only to word the error
 * for a refused global (a whole nn.Module vs. an attack), so it never throws. Names are decoded at most
 * GLOBAL_NAME_CAP + 1 characters long, so a memoized 48 MB string named a thousand times costs nothing, and at most
 * LIMITS.maxMemo memo entries are kept.
 */
export function scanGlobals(bytes: Uint8Array, start = 0): GlobalScan {
  const found: string[] = [];
  let memoOverflow = false;
  // a longer name than GLOBAL_NAME_CAP means "longer than the cap": the caller treats it as hostile
  const cap = GLOBAL_NAME_CAP + 1;
  // memo index -> the string stored there (null: another value), so MEMOIZE numbers entries as the VM does
  const memo = new Map<number, string | null>();
  // the last two values pushed, where they are strings: the arguments of a STACK_GLOBAL
  let last: (string | null)[] = [null, null];
  const pushStr = (s: string | null) => {
    last = [last[1], s];
  };
  const frame = new OpFrame();
  try {
    for (let p = start; p < bytes.length && found.length < 1000; p = frame.end) {
      // no line bound here: Python has none, and a global after a long line must still be seen
      if (readOp(bytes, p, Infinity, frame) !== 'ok' || frame.end > bytes.length) break;
      const op = frame.op;
      if (op === OP.STOP) break;
      if (op === OP.GLOBAL || op === OP.INST) {
        found.push(globalArg(bytes, frame, cap).join('.'));
        pushStr(null);
      } else if (op === OP.STACK_GLOBAL) {
        if (last[0] !== null && last[1] !== null) found.push(`${last[0]}.${last[1]}`);
        pushStr(null);
      } else if (STRING_OPS.has(op)) {
        pushStr(stringArg(bytes, frame, 'pickle', cap));
      } else if (op === OP.BINPUT || op === OP.LONG_BINPUT || op === OP.PUT || op === OP.MEMOIZE) {
        const index = op === OP.MEMOIZE ? memo.size : op === OP.PUT ? Number(lineText(bytes, frame)) : frame.value;
        if (memo.has(index) || memo.size < LIMITS.maxMemo) memo.set(index, last[1]);
        else memoOverflow = true;
      } else if (op === OP.BINGET || op === OP.LONG_BINGET || op === OP.GET) {
        pushStr(memo.get(op === OP.GET ? Number(lineText(bytes, frame)) : frame.value) ?? null);
      } else if (op === OP.DUP) {
        pushStr(last[1]);
      } else if (op !== OP.MARK && op !== OP.PROTO && op !== OP.FRAME && op !== OP.READONLY_BUFFER) {
        pushStr(null); // any other opcode pushes or pops a value that is not a string
      }
    }
  } catch {
    // a string the VM could not decode either (an unquoted STRING): the VM stops there too
  }
  return { globals: found, memoOverflow };
}
