// The one budget of a read: every value the pickle VM builds or copies (and every object an allowlisted handler
// allocates) is charged here, before it is allocated, in approximate bytes and in objects. A memo reference is free
// (GET pushes the same object); anything that copies pays for the copy, so repeating a call through the memo cannot
// multiply memory or work beyond the budget.
import { PthError } from './errors.js';
import { builtBytesBudget, type Limits } from './limits.js';

/**
 * What a value costs, in bytes, roughly as V8 on 64-bit stores it (no pointer compression in Node): the point is a
 * bound proportional to real memory, not an exact account.
 */
export const COST = {
  /** header of any heap object: string, bytes, tuple, list, dict, global token, storage, tensor, big integer */
  object: 32,
  /** one slot of a tuple or list */
  item: 8,
  /** one key/value entry of a dict (hash table slots included) */
  entry: 40,
  /** one character of a string (two-byte strings: counted for all strings, an upper bound) */
  char: 2,
} as const;

export function limitError(what: string): PthError {
  return new PthError(
    'PTH_LIMIT',
    `pickle exceeds a safety limit (${what})`,
    'a state_dict never needs this much: the file is hostile or not a model',
  );
}

export class Budget {
  /** bytes charged so far (never refunded: the budget bounds work as well as memory) */
  bytes = 0;
  objects = 0;
  readonly maxBytes: number;

  /** `pickleBytes`: the size of the pickle(s) the VM runs (data.pkl, or the whole legacy file). */
  constructor(
    readonly limits: Limits,
    pickleBytes: number,
  ) {
    this.maxBytes = builtBytesBudget(limits, pickleBytes);
  }

  /**
   * Charges `bytes` and `objects`, or throws PTH_LIMIT naming the budget when either would be exceeded (then nothing
   * is charged, and the caller allocates nothing: `bytes` never exceeds `maxBytes`).
   */
  charge(bytes: number, objects: number): void {
    if (this.bytes + bytes > this.maxBytes) {
      throw limitError(
        `VM bytes budget: values built would exceed ${this.maxBytes} bytes (${this.limits.builtBytesPerPickleByte}x the pickle, at least ${this.limits.minBuiltBytes}, at most ${this.limits.maxBuiltBytes})`,
      );
    }
    if (this.objects + objects > this.limits.maxObjects)
      throw limitError(`VM objects budget: more than ${this.limits.maxObjects} objects built`);
    this.bytes += bytes;
    this.objects += objects;
  }

  /** A string of `length` characters. */
  string(length: number): void {
    this.charge(COST.object + COST.char * length, 1);
  }
  /** A bytes value of `length` bytes. */
  bytesValue(length: number): void {
    this.charge(COST.object + length, 1);
  }
  /** A new tuple, list or set of `items` slots. */
  sequence(items: number): void {
    this.charge(COST.object + COST.item * items, 1);
  }
  /** A new dict of `entries` entries. */
  dict(entries: number): void {
    this.charge(COST.object + COST.entry * entries, 1);
  }
  /** Any other object (global token, storage, tensor, big integer) of `extra` bytes besides its header. */
  object(extra = 0): void {
    this.charge(COST.object + extra, 1);
  }
}
