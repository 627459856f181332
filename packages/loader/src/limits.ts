// Every safety bound of the loader in one table: what the zip reader, the pickle VM and the tensor rebuild may spend on
// one file. README.md ("Safety model") lists the same numbers; each is enforced by code and tested at its edge in
// test/budgets.test.ts. Plain data: this file imports nothing, so errors.ts and text.ts can read it without a cycle.

export interface Limits {
  // --- zip
  /** central-directory entries read (a .pth holds a handful of records) */
  readonly maxZipEntries: number;
  /** bytes data.pkl may declare; it is inflated into a buffer of exactly that size (+1 byte to detect a lie) */
  readonly maxPickleBytes: number;

  // --- the pickle VM: one budget of bytes and objects per file, whatever path builds or copies a value
  /** the bytes budget is `builtBytesPerPickleByte` x the pickle's size, but at least `minBuiltBytes`... */
  readonly builtBytesPerPickleByte: number;
  readonly minBuiltBytes: number;
  /** ...and at most `maxBuiltBytes` */
  readonly maxBuiltBytes: number;
  /** objects built (strings, bytes, tuples, lists, dicts, globals, storages, tensors, big integers) */
  readonly maxObjects: number;
  readonly maxMarkDepth: number;
  /** containers inside containers */
  readonly maxNesting: number;
  readonly maxMemo: number;
  /** items on the stack, counting those under every MARK */
  readonly maxStack: number;
  /** characters on one line of a text opcode (GLOBAL, INT, STRING, UNICODE, GET, PUT, ...) */
  readonly maxLineLength: number;
  /** bytes of one LONG1/LONG4 integer */
  readonly maxLongBytes: number;
  /** characters of a str dict key (or bytes of a bytes key): tensor names come from these keys */
  readonly maxKeyLength: number;

  // --- tensors
  /** tensors read from one file (each becomes an output object, even an empty one) */
  readonly maxTensors: number;
  readonly maxDims: number;
  readonly maxTensorElements: number;
  /** all tensors together may materialize at most (file size in bytes + this) elements (views can repeat elements) */
  readonly materializeSlackElements: number;
  /** a zip storage may hold at most `storageOveruse` x the elements its tensors use + `storageSlackElements` */
  readonly storageOveruse: number;
  readonly storageSlackElements: number;

  // --- messages
  /** characters of a value quoted in a message before it is cut: `…(N chars)` */
  readonly maxQuotedChars: number;
  /** characters of a whole PthError message (problem + ": " + hint) */
  readonly maxMessageLength: number;
}

const MB = 1 << 20;

export const LIMITS: Readonly<Limits> = Object.freeze({
  maxZipEntries: 100_000,
  maxPickleBytes: 64 * MB,
  // torch.save's pickles build 6.3-8.7 bytes of values per pickle byte (memo GETs are 2 bytes, the tuples they fill
  // are not): 16 leaves twice that, and the floor covers any pickle under 4 MB whatever its shape
  builtBytesPerPickleByte: 16,
  minBuiltBytes: 64 * MB,
  maxBuiltBytes: 256 * MB,
  maxObjects: 2_000_000,
  maxMarkDepth: 1_000,
  maxNesting: 1_000,
  maxMemo: 200_000,
  maxStack: 4_000_000,
  maxLineLength: 65_536,
  maxLongBytes: 64,
  maxKeyLength: 4_096,
  maxTensors: 100_000,
  maxDims: 16,
  maxTensorElements: 2 ** 28,
  materializeSlackElements: MB,
  storageOveruse: 4,
  storageSlackElements: MB,
  maxQuotedChars: 80,
  maxMessageLength: 300,
});

/** The VM's bytes budget for a pickle of `pickleBytes` bytes: min(max, max(min, perByte x size)). */
export function builtBytesBudget(limits: Limits, pickleBytes: number): number {
  return Math.min(limits.maxBuiltBytes, Math.max(limits.minBuiltBytes, limits.builtBytesPerPickleByte * pickleBytes));
}
