// Every bound of LIMITS (src/limits.ts) at its edge: an input just under it loads, one just over it is refused with
// PTH_LIMIT (or the code the README gives) and a message naming the bound and its number. Inputs are generated here
// (test/craft.ts); bounds too large to reach quickly are injected smaller through readWithLimits (internal, tests only).
import { describe, expect, test } from 'vitest';
import { PthError, quote, type PthFile } from '../src/index.js';
import { readWithLimits, type ReadStats } from '../src/read.js';
import { LIMITS, builtBytesBudget, type Limits } from '../src/limits.js';
import { OP } from '../src/opcodes.js';
import { Pickle, buildZip, pth, stateDict, type TensorSpec } from './craft.js';

const FC: TensorSpec[] = [{ name: 'fc.weight', key: '0', numel: 6, shape: [2, 3] }];

function newStats(): ReadStats {
  return { builtBytes: 0, builtBytesBudget: 0, objects: 0, materializedElements: 0, inflatedBytes: 0 };
}

function read(bytes: Uint8Array, limits: Partial<Limits> = {}, stats = newStats()): PthFile {
  return readWithLimits(bytes, { ...LIMITS, ...limits }, stats);
}

/** The PthError `fn` throws (fails the test when it returns or throws something else). */
function failure(fn: () => unknown): PthError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PthError);
    const err = e as PthError;
    expect(err.message.length).toBeLessThanOrEqual(LIMITS.maxMessageLength);
    expect(err.message).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
    return err;
  }
  throw new Error('expected a PthError, got a result');
}

/** A .pth whose pickle runs `prefix` (which must leave the stack as it found it), then builds the fc state_dict. */
function withPrefix(
  prefix: (p: Pickle) => void,
  tensors = FC,
  storages: Record<string, number | Float32Array> = { 0: 6 },
  deflate = false,
): Uint8Array {
  const p = new Pickle().proto(2);
  prefix(p);
  stateDict(p, tensors).stop();
  return pth(p.bytesOut(), storages, deflate);
}

describe('pickle VM bounds', () => {
  test(`MARK depth: ${LIMITS.maxMarkDepth} nested MARKs load, one more is refused`, () => {
    const marks = (k: number) => withPrefix((p) => p.fill(OP.MARK, k).fill(OP.POP_MARK, k));
    expect(read(marks(LIMITS.maxMarkDepth)).tensors[0].name).toBe('fc.weight');
    const e = failure(() => read(marks(LIMITS.maxMarkDepth + 1)));
    expect(e.code).toBe('PTH_LIMIT');
    expect(e.message).toContain(`MARKs nested more than ${LIMITS.maxMarkDepth} deep`);
  });

  test(`container nesting: ${LIMITS.maxNesting} nested tuples load, one more is refused`, () => {
    const nested = (k: number) => withPrefix((p) => p.none().fill(OP.TUPLE1, k).op(OP.POP));
    expect(read(nested(LIMITS.maxNesting)).tensors).toHaveLength(1);
    const e = failure(() => read(nested(LIMITS.maxNesting + 1)));
    expect(e.code).toBe('PTH_LIMIT');
    expect(e.message).toContain(`containers nested more than ${LIMITS.maxNesting} deep`);
  });

  test(`memo: ${LIMITS.maxMemo} entries load, one more is refused`, () => {
    const memo = (k: number) =>
      withPrefix((p) => {
        p.none();
        for (let i = 0; i < k; i++) p.put(i);
        p.op(OP.POP);
      });
    expect(read(memo(LIMITS.maxMemo)).tensors).toHaveLength(1);
    const e = failure(() => read(memo(LIMITS.maxMemo + 1)));
    expect(e.code).toBe('PTH_LIMIT');
    expect(e.message).toContain(`more than ${LIMITS.maxMemo} memo entries`);
  });

  test(`stack: ${LIMITS.maxStack} items load, one more is refused`, () => {
    const stack = (k: number) => withPrefix((p) => p.mark().fill(OP.NONE, k).op(OP.POP_MARK));
    expect(read(stack(LIMITS.maxStack)).tensors).toHaveLength(1);
    const e = failure(() => read(stack(LIMITS.maxStack + 1)));
    expect(e.code).toBe('PTH_LIMIT');
    expect(e.message).toContain(`stack of more than ${LIMITS.maxStack} items`);
  });

  test(`text opcode line: ${LIMITS.maxLineLength} bytes load, one more is refused`, () => {
    const unicode = (k: number) =>
      withPrefix((p) => p.op(OP.UNICODE).raw(new Uint8Array(k).fill(0x61)).op(0x0a, OP.POP));
    expect(read(unicode(LIMITS.maxLineLength)).tensors).toHaveLength(1);
    const e = failure(() => read(unicode(LIMITS.maxLineLength + 1)));
    expect(e.code).toBe('PTH_LIMIT');
    expect(e.message).toContain(`text opcode line longer than ${LIMITS.maxLineLength} bytes`);
  });

  test(`integers: a ${LIMITS.maxLongBytes}-byte LONG1 loads, one byte more is refused`, () => {
    const long = (k: number) => withPrefix((p) => p.op(OP.LONG1, k).raw(new Uint8Array(k).fill(0x11)).op(OP.POP));
    expect(read(long(LIMITS.maxLongBytes)).tensors).toHaveLength(1);
    const e = failure(() => read(long(LIMITS.maxLongBytes + 1)));
    expect(e.code).toBe('PTH_LIMIT');
    expect(e.message).toContain(`integer longer than ${LIMITS.maxLongBytes} bytes`);
  });

  test(`key size: a ${LIMITS.maxKeyLength}-character tensor name loads (raw), one more is refused`, () => {
    const named = (k: number) =>
      withPrefix(() => {}, [{ ...FC[0], name: 'w'.repeat(k - '.weight'.length) + '.weight' }]);
    const file = read(named(LIMITS.maxKeyLength));
    expect(file.tensors[0].name).toHaveLength(LIMITS.maxKeyLength);
    const e = failure(() => read(named(LIMITS.maxKeyLength + 1)));
    expect(e.code).toBe('PTH_LIMIT');
    expect(e.message).toContain(`dict key of ${LIMITS.maxKeyLength + 1} characters, more than ${LIMITS.maxKeyLength}`);
  });

  test(`key size: a ${LIMITS.maxKeyLength}-byte bytes key loads, one more is refused`, () => {
    const keyed = (k: number) =>
      withPrefix((p) => p.op(OP.EMPTY_DICT).bytes(new Uint8Array(k)).none().op(OP.SETITEM, OP.POP));
    expect(read(keyed(LIMITS.maxKeyLength)).tensors).toHaveLength(1);
    const e = failure(() => read(keyed(LIMITS.maxKeyLength + 1)));
    expect(e.code).toBe('PTH_LIMIT');
    expect(e.message).toContain(`bytes dict key of ${LIMITS.maxKeyLength + 1} bytes, more than ${LIMITS.maxKeyLength}`);
  });

  test('VM bytes budget: exactly what a file builds loads, one byte less is refused', () => {
    const file = withPrefix((p) => p.str('x'.repeat(1000)).op(OP.POP));
    const stats = newStats();
    read(file, {}, stats);
    const built = stats.builtBytes;
    expect(built).toBeGreaterThan(2000); // the 1000-character string is charged 2 bytes a character
    expect(read(file, { minBuiltBytes: built, maxBuiltBytes: built }).tensors).toHaveLength(1);
    const e = failure(() => read(file, { minBuiltBytes: built - 1, maxBuiltBytes: built - 1 }));
    expect(e.code).toBe('PTH_LIMIT');
    expect(e.message).toContain(`VM bytes budget: values built would exceed ${built - 1} bytes`);
  });

  test(`VM bytes budget scales with the pickle: ${LIMITS.builtBytesPerPickleByte}x, at least ${LIMITS.minBuiltBytes}, at most ${LIMITS.maxBuiltBytes}`, () => {
    expect(builtBytesBudget(LIMITS, 1000)).toBe(LIMITS.minBuiltBytes);
    const between = (LIMITS.minBuiltBytes / LIMITS.builtBytesPerPickleByte) * 2;
    expect(builtBytesBudget(LIMITS, between)).toBe(2 * LIMITS.minBuiltBytes);
    expect(builtBytesBudget(LIMITS, LIMITS.maxPickleBytes)).toBe(LIMITS.maxBuiltBytes);
    // and the read uses data.pkl's size
    const stats = newStats();
    read(
      withPrefix(() => {}),
      {},
      stats,
    );
    expect(stats.builtBytesBudget).toBe(LIMITS.minBuiltBytes);
  });

  test('VM objects budget: exactly what a file builds loads, one object less is refused', () => {
    const file = withPrefix((p) => p.fill(OP.EMPTY_TUPLE, 500).fill(OP.POP, 500));
    const stats = newStats();
    read(file, {}, stats);
    expect(stats.objects).toBeGreaterThan(500);
    expect(read(file, { maxObjects: stats.objects }).tensors).toHaveLength(1);
    const e = failure(() => read(file, { maxObjects: stats.objects - 1 }));
    expect(e.code).toBe('PTH_LIMIT');
    expect(e.message).toContain(`VM objects budget: more than ${stats.objects - 1} objects built`);
  });
});

describe('tensor bounds', () => {
  test(`dimensions: ${LIMITS.maxDims} load, one more is refused`, () => {
    const dims = (k: number) =>
      withPrefix(() => {}, [
        { name: 'x', key: '0', numel: 6, shape: new Array(k).fill(1), stride: new Array(k).fill(1) },
      ]);
    expect(read(dims(LIMITS.maxDims)).tensors[0].shape).toHaveLength(LIMITS.maxDims);
    const e = failure(() => read(dims(LIMITS.maxDims + 1)));
    expect(e.code).toBe('PTH_LIMIT');
    expect(e.message).toContain(`${LIMITS.maxDims + 1} dimensions, more than ${LIMITS.maxDims}`);
  });

  test('tensors per file: exactly the bound load, one more is refused', () => {
    const three = withPrefix(
      () => {},
      ['a', 'b', 'c'].map((name) => ({ ...FC[0], name })),
    );
    expect(read(three, { maxTensors: 3 }).tensors).toHaveLength(3);
    const e = failure(() => read(three, { maxTensors: 2 }));
    expect(e.code).toBe('PTH_LIMIT');
    expect(e.message).toContain('the state_dict holds 3 tensors, more than 2');
  });

  test('elements per tensor: a tensor of exactly the bound loads, one element more is refused', () => {
    const file = withPrefix(() => {});
    expect(read(file, { maxTensorElements: 6 }).tensors[0].data).toHaveLength(6);
    const e = failure(() => read(file, { maxTensorElements: 5 }));
    expect(e.code).toBe('PTH_LIMIT');
    expect(e.message).toContain('tensor fc.weight has 6 elements');
  });

  test(`values materialized: the file's size + ${LIMITS.materializeSlackElements} load, one more is refused`, () => {
    // one float repeated by a stride-0 view: the pickle's size does not depend on the count (fixed-width ints)
    const expanded = (count: number) =>
      withPrefix(() => {}, [{ name: 'x', key: '0', numel: 1, shape: [count], stride: [0] }], { 0: 1 });
    const size = expanded(1).length;
    const edge = size + LIMITS.materializeSlackElements;
    expect(expanded(edge).length).toBe(size);
    expect(read(expanded(edge)).tensors[0].data).toHaveLength(edge);
    const e = failure(() => read(expanded(edge + 1)));
    expect(e.code).toBe('PTH_LIMIT');
    expect(e.message).toContain(`values to materialize to ${edge + 1}, more than ${edge}`);
  });

  test(`storage size: ${LIMITS.storageOveruse}x what its tensors use + ${LIMITS.storageSlackElements} is read, one more element is refused`, () => {
    const allowed = LIMITS.storageOveruse * 1 + LIMITS.storageSlackElements;
    const big = (numel: number) =>
      withPrefix(() => {}, [{ name: 'x', key: '0', numel, shape: [1] }], { 0: new Float32Array(numel) }, true);
    expect(read(big(allowed)).tensors[0].data).toHaveLength(1);
    const e = failure(() => read(big(allowed + 1)));
    expect(e.code).toBe('PTH_LIMIT');
    expect(e.message).toContain(
      `storage 0 holds ${allowed + 1} elements but its tensors use 1 (at most ${allowed} are read)`,
    );
  });
});

describe('zip bounds', () => {
  const file = withPrefix(() => {});

  test('data.pkl size: a pickle of exactly the bound is read, one byte more is refused', () => {
    const p = new Pickle().proto(2);
    const pkl = stateDict(p, FC).stop().bytesOut();
    const bytes = pth(pkl, { 0: 6 });
    expect(read(bytes, { maxPickleBytes: pkl.length }).tensors).toHaveLength(1);
    const e = failure(() => read(bytes, { maxPickleBytes: pkl.length - 1 }));
    expect(e.code).toBe('PTH_LIMIT');
    expect(e.message).toContain(`data.pkl declares ${pkl.length} bytes, more than ${pkl.length - 1}`);
  });

  test('zip entries: exactly the bound are read, one more is refused', () => {
    expect(read(file, { maxZipEntries: 3 }).tensors).toHaveLength(1); // data.pkl, data/0, version
    const e = failure(() => read(file, { maxZipEntries: 2 }));
    expect(e.code).toBe('PTH_LIMIT');
    expect(e.message).toContain('zip archive lists 3 entries, more than 2');
  });

  test('inflation: a record inflating to exactly its declared size is read, one byte past it is refused', () => {
    const pkl = stateDict(new Pickle().proto(2), FC).stop().bytesOut();
    const records = [
      { name: 'archive/data.pkl', data: pkl, deflate: true },
      { name: 'archive/data/0', data: new Uint8Array(24) },
    ];
    expect(read(buildZip(records)).tensors).toHaveLength(1);
    const lying = buildZip(records, {
      directory: (d) => d.map((e) => (e.method === 8 ? { ...e, size: e.size - 1 } : e)),
    });
    const e = failure(() => read(lying));
    expect(e.code).toBe('PTH_CORRUPT');
    expect(e.message).toContain(`inflates past its declared ${pkl.length - 1} bytes`);
  });
});

describe('message bounds', () => {
  test(`a quoted value keeps ${LIMITS.maxQuotedChars} characters; one more is cut with its length`, () => {
    expect(quote('a'.repeat(LIMITS.maxQuotedChars))).toBe('a'.repeat(LIMITS.maxQuotedChars));
    expect(quote('a'.repeat(LIMITS.maxQuotedChars + 1))).toBe(
      `${'a'.repeat(LIMITS.maxQuotedChars)}…(${LIMITS.maxQuotedChars + 1} chars)`,
    );
    expect(quote(new Uint8Array(LIMITS.maxQuotedChars + 1).fill(0x62))).toBe(
      `${'b'.repeat(LIMITS.maxQuotedChars)}…(${LIMITS.maxQuotedChars + 1} bytes)`,
    );
  });

  test(`a message is at most ${LIMITS.maxMessageLength} characters, whatever a throw site passes`, () => {
    const hint = 'do this';
    const fits = 'word '.repeat(LIMITS.maxMessageLength).slice(0, LIMITS.maxMessageLength - hint.length - 2);
    expect(new PthError('PTH_LIMIT', fits, hint).message).toBe(`${fits}: ${hint}`);
    const over = new PthError('PTH_LIMIT', `${fits} and one word more`, hint);
    expect(over.message).toHaveLength(LIMITS.maxMessageLength);
    expect(over.message.endsWith(`…: ${hint}`)).toBe(true);
    const huge = new PthError('PTH_LIMIT', `name ${'n'.repeat(1 << 20)} is bad`, 'h'.repeat(1000));
    expect(huge.message.length).toBeLessThanOrEqual(LIMITS.maxMessageLength);
    expect(huge.message).toContain(`…(${1 << 20} chars)`);
  });
});
