// Hostile inputs generated here (test/craft.ts) rather than committed: memory amplification through allowlisted
// globals, quadratic work on dict keys, huge or control-character names in messages, zip bombs and ambiguous zips.
// Each is refused (or read) quickly, within the VM budget, with a short one-line message.
import { inflateRawSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { PthError, LIMITS, escapeControl, quote, type PthFile } from '../src/index.js';
import { readWithLimits, type ReadStats } from '../src/read.js';
import { crc32 } from '../src/zip.js';
import { OP } from '../src/opcodes.js';
import { Pickle, buildZip, pth, stateDict, tensor, zeroBomb, type TensorSpec, type ZipRecord } from './craft.js';

const FC: TensorSpec[] = [{ name: 'fc.weight', key: '0', numel: 6, shape: [2, 3] }];
const CONTROL = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const MB = 1 << 20;

interface Outcome {
  file?: PthFile;
  error?: PthError;
  cpuMs: number;
  stats: ReadStats;
  heapGrowth: number;
}

/** Reads `bytes` with the real LIMITS, measuring CPU time (not wall time: the machine is shared) and memory. */
function run(bytes: Uint8Array): Outcome {
  const stats: ReadStats = {
    builtBytes: 0,
    builtBytesBudget: 0,
    objects: 0,
    materializedElements: 0,
    inflatedBytes: 0,
  };
  const m0 = process.memoryUsage();
  const t0 = process.cpuUsage();
  let file: PthFile | undefined, error: PthError | undefined;
  try {
    file = readWithLimits(bytes, LIMITS, stats);
  } catch (e) {
    if (!(e instanceof PthError)) throw e;
    error = e;
  }
  const t = process.cpuUsage(t0);
  const m1 = process.memoryUsage();
  const heapGrowth = m1.heapUsed + m1.arrayBuffers - (m0.heapUsed + m0.arrayBuffers);
  return { file, error, cpuMs: (t.user + t.system) / 1000, stats, heapGrowth };
}

/** The error of `bytes`, checked to be one safe line. */
function refused(bytes: Uint8Array, code: string): Outcome & { error: PthError } {
  const out = run(bytes);
  expect(out.error, out.file ? `loaded ${out.file.tensors.length} tensors` : '').toBeInstanceOf(PthError);
  const e = out.error!;
  expect(e.code, e.message).toBe(code);
  expect(e.message.length).toBeLessThanOrEqual(LIMITS.maxMessageLength);
  expect(e.message).not.toMatch(CONTROL);
  return out as Outcome & { error: PthError };
}

function pickle(build: (p: Pickle) => void, tensors = FC): Uint8Array {
  const p = new Pickle().proto(2);
  build(p);
  return stateDict(p, tensors).stop().bytesOut();
}

// ---------------------------------------------------------------------------------------------------------------------

describe('memory amplification through allowed globals', () => {
  // The global is memoized as 0 and its argument tuple as 1; then (BINGET 0, BINGET 1, REDUCE, POP) x 5000. Without a
  // budget each call copied the large argument again (GBs in seconds); with it the copies stop at the VM bytes budget.
  const REPEATS = 5000;
  function amplified(module: string, name: string, args: (p: Pickle) => void): Uint8Array {
    const pkl = pickle((p) => {
      p.global(module, name).put(0).op(OP.POP);
      args(p);
      p.put(1).op(OP.POP);
      for (let i = 0; i < REPEATS; i++) p.get(0).get(1).op(OP.REDUCE, OP.POP);
    });
    return pth(pkl, { 0: 6 }, true); // deflated: the whole file is a few KB
  }
  const cases: [string, string, string, (p: Pickle) => void][] = [
    ['torch.Size of a 1M-item tuple', 'torch', 'Size', (p) => p.mark().fill(OP.NONE, MB).op(OP.TUPLE, OP.TUPLE1)],
    [
      'OrderedDict of 1M pairs (one pair, memoized)',
      'collections',
      'OrderedDict',
      (p) => {
        p.str('k').none().op(OP.TUPLE2).put(2).op(OP.POP).mark();
        const gets = new Uint8Array(2 * MB);
        for (let i = 0; i < gets.length; i += 2) {
          gets[i] = OP.BINGET;
          gets[i + 1] = 2;
        }
        p.raw(gets).op(OP.LIST, OP.TUPLE1);
      },
    ],
    ['torch.device of a 1 MB string', 'torch', 'device', (p) => p.str('c'.repeat(MB)).op(OP.TUPLE1)],
    ['_codecs.encode of a 1 MB string', '_codecs', 'encode', (p) => p.str('a'.repeat(MB)).str('latin1').op(OP.TUPLE2)],
  ];
  for (const [what, module, name, args] of cases) {
    test(`${what}, called ${REPEATS} times through the memo: PTH_LIMIT, quickly, within the budget`, () => {
      const bytes = amplified(module, name, args);
      expect(bytes.length).toBeLessThan(16 * 1024);
      const out = refused(bytes, 'PTH_LIMIT');
      expect(out.error.message).toContain(`VM bytes budget: values built would exceed ${LIMITS.minBuiltBytes} bytes`);
      expect(out.stats.builtBytes).toBeLessThanOrEqual(out.stats.builtBytesBudget);
      expect(out.cpuMs).toBeLessThan(2000); // ~10-100 ms idle; the bound only catches a return of the copying
      expect(out.heapGrowth).toBeLessThan(LIMITS.maxBuiltBytes);
    });
  }

  test(`one empty tensor listed under ${LIMITS.maxTensors + 1} keys through the memo: PTH_LIMIT before any output`, () => {
    const p = new Pickle().proto(2);
    tensor(p, { key: '0', numel: 6, shape: [0] })
      .put(0)
      .op(OP.POP);
    p.global('collections', 'OrderedDict').op(OP.EMPTY_TUPLE, OP.REDUCE).mark();
    for (let i = 0; i <= LIMITS.maxTensors; i++) p.str(`k${i}`).get(0);
    const out = refused(pth(p.op(OP.SETITEMS).stop().bytesOut(), { 0: 6 }, true), 'PTH_LIMIT');
    expect(out.error.message).toContain(`holds ${LIMITS.maxTensors + 1} tensors, more than ${LIMITS.maxTensors}`);
    expect(out.cpuMs).toBeLessThan(2000);
  });

  test('the same calls a few times load: the budget is for repetition, not for the globals', () => {
    const pkl = pickle((p) => {
      p.global('torch', 'Size').put(0).op(OP.POP).intTuple([2, 3]).op(OP.TUPLE1).put(1).op(OP.POP);
      for (let i = 0; i < 100; i++) p.get(0).get(1).op(OP.REDUCE, OP.POP);
    });
    expect(run(pth(pkl, { 0: 6 })).file?.tensors[0].shape).toEqual([2, 3]);
  });
});

describe('quadratic work on dict keys', () => {
  // {key: None for 5000 uses of one memoized key}: converting the key again on each use would be quadratic work
  function keyUsedOften(key: (p: Pickle) => void, uses: number): Uint8Array {
    return pth(
      pickle((p) => {
        key(p);
        p.put(0).op(OP.POP, OP.EMPTY_DICT).mark();
        for (let i = 0; i < uses; i++) p.get(0).none();
        p.op(OP.SETITEMS, OP.POP);
      }),
      { 0: 6 },
      true,
    );
  }

  test('a 1 MB bytes key used 5000 times: PTH_LIMIT for key size, fast', () => {
    const out = refused(
      keyUsedOften((p) => p.bytes(new Uint8Array(MB).fill(0x41)), 5000),
      'PTH_LIMIT',
    );
    expect(out.error.message).toContain(`bytes dict key of ${MB} bytes, more than ${LIMITS.maxKeyLength}`);
    expect(out.error.message).toContain(`…(${MB} bytes)`);
    expect(out.cpuMs).toBeLessThan(2000);
  });

  test('a 1 MB str key used 5000 times: PTH_LIMIT for key size, fast', () => {
    const out = refused(
      keyUsedOften((p) => p.str('k'.repeat(MB)), 5000),
      'PTH_LIMIT',
    );
    expect(out.error.message).toContain(`dict key of ${MB} characters, more than ${LIMITS.maxKeyLength}`);
    expect(out.cpuMs).toBeLessThan(2000);
  });

  test(`a ${LIMITS.maxKeyLength}-byte bytes key used 50000 times loads: converted once, not per use`, () => {
    const out = run(keyUsedOften((p) => p.bytes(new Uint8Array(LIMITS.maxKeyLength).fill(0x42)), 50_000));
    expect(out.file?.tensors).toHaveLength(1);
    expect(out.cpuMs).toBeLessThan(2000);
  });

  test('bytes keys compare by content, and never equal a str key (as in Python)', () => {
    // {b'k': 1, b'k' (another object): 2, 'k': 3, 'model_state_dict': {...}}: three top-level keys, two ignored
    const p = new Pickle().proto(2).op(OP.EMPTY_DICT).mark();
    p.bytes(new Uint8Array([0x6b]))
      .int(1)
      .bytes(new Uint8Array([0x6b]))
      .int(2)
      .str('k')
      .int(3)
      .str('model_state_dict');
    stateDict(p, FC).op(OP.SETITEMS).stop();
    const file = run(pth(p.bytesOut(), { 0: 6 })).file!;
    expect(file.key).toBe('model_state_dict');
    expect(file.ignored).toEqual(["b'k'", 'k']);
  });

  test('a checkpoint whose 20000 keys all name one 20000-entry dict: each dict is walked once', () => {
    const p = new Pickle().proto(2).op(OP.EMPTY_DICT).put(0).mark();
    for (let i = 0; i < 20_000; i++) p.str(`k${i}`).int(i);
    p.op(OP.SETITEMS, OP.POP, OP.EMPTY_DICT).mark();
    for (let i = 0; i < 20_000; i++) p.str(`c${i}`).get(0);
    p.str('model_state_dict');
    stateDict(p, FC).op(OP.SETITEMS).stop();
    const out = run(pth(p.bytesOut(), { 0: 6 }, true));
    expect(out.file?.key).toBe('model_state_dict');
    expect(out.file?.ignored).toHaveLength(20_000);
    expect(out.cpuMs).toBeLessThan(2000);
  });
});

describe('messages: short, one line, control characters escaped', () => {
  const big = new Uint8Array(48 * MB).fill(0x61); // 48 MB of "a", as UTF-8

  test('a 48 MB dict key: PTH_LIMIT with a message under 300 characters', () => {
    const out = refused(pth(pickle((p) => p.op(OP.EMPTY_DICT).str(big).none().op(OP.SETITEM, OP.POP))), 'PTH_LIMIT');
    expect(out.error.message).toContain(`dict key of ${big.length} characters`);
    expect(out.error.message).toContain(`…(${big.length} chars)`);
    expect(out.cpuMs).toBeLessThan(2000);
  });

  test('a 48 MB global name: PTH_UNSAFE_GLOBAL with a message under 300 characters', () => {
    const out = refused(pth(pickle((p) => p.str(big).str('system').op(OP.STACK_GLOBAL))), 'PTH_UNSAFE_GLOBAL');
    expect(out.error.message).toMatch(/the global a{80}…\(50331648 chars\)\.system/);
    expect(out.cpuMs).toBeLessThan(2000);
  });

  test('control characters in a global name are escaped', () => {
    const out = refused(
      pth(pickle((p) => p.str('os\x1b[31m\r\x00').str('sys\ntem\u202e\u2028').op(OP.STACK_GLOBAL))),
      'PTH_UNSAFE_GLOBAL',
    );
    expect(out.error.message).toContain('os\\x1b[31m\\r\\x00.sys\\ntem\\u202e\\u2028');
    const text = refused(pth(pickle((p) => p.global('posix\x1b]0;owned\x07', 'system'))), 'PTH_UNSAFE_GLOBAL');
    expect(text.error.message).toContain('posix\\x1b]0;owned\\x07.system');
  });

  test('control characters in an over-long key are escaped', () => {
    const key = '\x1b[2J' + 'k'.repeat(LIMITS.maxKeyLength);
    const out = refused(pth(pickle((p) => p.op(OP.EMPTY_DICT).str(key).none().op(OP.SETITEM, OP.POP))), 'PTH_LIMIT');
    expect(out.error.message).toContain(`: \\x1b[2Jkkk`);
  });

  test('a tensor name with control characters: raw in PthTensor.name, escaped in messages and warnings', () => {
    const name = 'fc\x1b]0;pwned\x07\n.weight';
    const ok = run(
      pth(
        pickle(() => {}, [{ ...FC[0], name }]),
        { 0: new Float32Array([NaN, 1, 2, 3, 4, 5]) },
      ),
    );
    expect(ok.file?.tensors[0].name).toBe(name);
    expect(ok.file?.warnings[0]).toContain('fc\\x1b]0;pwned\\x07\\n.weight holds 1 NaN');
    expect(ok.file?.warnings.join('')).not.toMatch(CONTROL);
    const bad = refused(
      pth(
        pickle(() => {}, [{ ...FC[0], name, offset: 1 }]),
        { 0: 6 },
      ),
      'PTH_BAD_VIEW',
    );
    expect(bad.error.message).toContain('tensor fc\\x1b]0;pwned\\x07\\n.weight (offset 1');
  });

  test('escapeControl and quote, for the CLI and the web app', () => {
    expect(escapeControl('a\tb\nc\rd\x1be\x00f\x7fg\x9bh\u2028i\u202ej\ud800k')).toBe(
      'a\\tb\\nc\\rd\\x1be\\x00f\\x7fg\\x9bh\\u2028i\\u202ej\\ud800k',
    );
    expect(escapeControl('fc1.weight ünïcødé 😀')).toBe('fc1.weight ünïcødé 😀');
    expect(escapeControl(escapeControl('x\x1by'))).toBe('x\\x1by');
    expect(quote(`${'😀'.repeat(50)}`)).toBe(`${'😀'.repeat(40)}…(100 chars)`); // pairs never split
    expect(quote('\x1b'.repeat(100))).toBe(`${'\\x1b'.repeat(20)}…(100 chars)`); // the cut counts escapes
    expect(quote(new Uint8Array([0x61, 0x0a, 0xff]))).toBe('a\\n\\xff');
  });
});

describe('zip bombs: refused before inflating, or one byte past the declared size', () => {
  // a 4 x 784 float32 weight (12,544 bytes), as a state_dict of a Linear(784, 4) would hold it
  const W: TensorSpec = { name: 'fc1.weight', key: '0', numel: 4 * 784, shape: [4, 784] };
  const weightPickle = (numel: number) =>
    stateDict(new Pickle().proto(2), [{ ...W, numel }])
      .stop()
      .bytesOut();
  const data0 = { name: 'archive/data/0', data: new Uint8Array(4 * W.numel) };
  const version = { name: 'archive/version', data: new TextEncoder().encode('3\n') };

  test('zeroBomb builds a valid deflate stream of zeros with its true size and CRC', () => {
    const bomb = zeroBomb(3);
    const zeros = new Uint8Array(inflateRawSync(bomb.stream));
    expect(zeros.length).toBe(bomb.size);
    expect(zeros.every((b) => b === 0)).toBe(true);
    expect(bomb.crc).toBe(crc32(zeros));
  });

  test('data.pkl: 1 MB of deflate stream that inflates to 1 GiB, declared honestly: PTH_LIMIT on its declared size', () => {
    const bomb = zeroBomb(1024);
    const out = refused(buildZip([{ name: 'archive/data.pkl', deflated: bomb }, data0, version]), 'PTH_LIMIT');
    expect(out.error.message).toContain(`data.pkl declares ${bomb.size} bytes, more than ${LIMITS.maxPickleBytes}`);
    expect(out.stats.inflatedBytes).toBe(0);
    expect(out.cpuMs).toBeLessThan(2000);
  });

  test('a storage record declaring 12,544 bytes whose stream inflates to 64 MiB: PTH_CORRUPT one byte past it', () => {
    const bomb = { ...zeroBomb(64), size: 4 * W.numel };
    const out = refused(
      buildZip([
        { name: 'archive/data.pkl', data: weightPickle(W.numel) },
        { name: data0.name, deflated: bomb },
        version,
      ]),
      'PTH_CORRUPT',
    );
    expect(out.error.message).toContain(`inflates past its declared ${bomb.size} bytes`);
    expect(out.heapGrowth).toBeLessThan(16 * MB);
    expect(out.cpuMs).toBeLessThan(2000);
  });

  test('a 256 MiB storage (pickle and zip agree) of which one 12 KB tensor is used: PTH_LIMIT before inflating', () => {
    const bomb = zeroBomb(256);
    const numel = bomb.size / 4,
      allowed = LIMITS.storageOveruse * W.numel + LIMITS.storageSlackElements;
    const out = refused(
      buildZip([
        { name: 'archive/data.pkl', data: weightPickle(numel) },
        { name: data0.name, deflated: bomb },
        version,
      ]),
      'PTH_LIMIT',
    );
    expect(out.error.message).toContain(
      `storage 0 holds ${numel} elements but its tensors use ${W.numel} (at most ${allowed} are read)`,
    );
    expect(out.stats.inflatedBytes).toBe(0);
    expect(out.cpuMs).toBeLessThan(2000);
  });

  test('a storage record honestly declaring 64 MiB, far more than the pickle says: PTH_STORAGE_SIZE before inflating', () => {
    const bomb = zeroBomb(64);
    const out = refused(
      buildZip([
        { name: 'archive/data.pkl', data: weightPickle(W.numel) },
        { name: data0.name, deflated: bomb },
        version,
      ]),
      'PTH_STORAGE_SIZE',
    );
    expect(out.error.message).toContain(
      `record archive/data/0 holds ${bomb.size} bytes but the pickle says ${W.numel} float32 values (${4 * W.numel} bytes)`,
    );
    expect(out.stats.inflatedBytes).toBe(0);
    expect(out.cpuMs).toBeLessThan(2000);
  });
});

describe('ambiguous zips', () => {
  const pkl = pickle(() => {});
  const data0 = new Uint8Array(new Float32Array(6).buffer);
  const good: ZipRecord[] = [
    { name: 'archive/data.pkl', data: pkl },
    { name: 'archive/data/0', data: data0 },
    { name: 'archive/version', data: new TextEncoder().encode('3\n') },
  ];

  test('the well-formed archive these cases start from loads', () => {
    expect(run(buildZip(good)).file?.tensors[0].name).toBe('fc.weight');
  });

  test('two data.pkl records of one name: PTH_ZIP_DUPLICATE naming it', () => {
    const other = pickle(() => {}, [{ ...FC[0], name: 'evil.weight' }]);
    const out = refused(buildZip([...good, { name: 'archive/data.pkl', data: other }]), 'PTH_ZIP_DUPLICATE');
    expect(out.error.message).toContain('archive/data.pkl twice');
  });

  test('two copies of one storage record: PTH_ZIP_DUPLICATE naming it', () => {
    const out = refused(
      buildZip([...good, { name: 'archive/data/0', data: new Uint8Array(24).fill(0x40) }]),
      'PTH_ZIP_DUPLICATE',
    );
    expect(out.error.message).toContain('archive/data/0 twice');
  });

  test('the central directory listing one record twice: PTH_ZIP_DUPLICATE', () => {
    refused(buildZip(good, { directory: (d) => [...d, d[1]] }), 'PTH_ZIP_DUPLICATE');
  });

  test('a duplicate name with control characters is escaped', () => {
    const name = 'archive/\x1b[2Jx';
    const out = refused(
      buildZip([...good, { name, data: new Uint8Array(1) }, { name, data: new Uint8Array(2) }]),
      'PTH_ZIP_DUPLICATE',
    );
    expect(out.error.message).toContain('archive/\\x1b[2Jx twice');
  });

  test('two pickles under two folders: PTH_ZIP_DUPLICATE', () => {
    const out = refused(buildZip([...good, { name: 'other/data.pkl', data: pkl }]), 'PTH_ZIP_DUPLICATE');
    expect(out.error.message).toContain('two pickles, archive/data.pkl and other/data.pkl');
  });

  test('a name with a NUL byte (Python cuts it there): PTH_CORRUPT', () => {
    const out = refused(buildZip([...good, { name: 'archive/data.pkl\x00x', data: pkl }]), 'PTH_CORRUPT');
    expect(out.error.message).toContain('holds a NUL byte');
  });

  test("a record nested inside another record's data: PTH_ZIP_OVERLAP", () => {
    // record A's stored data is a whole local record B (header + data); the directory lists both
    const innerName = 'archive/data/0',
      outerName = 'archive/padding';
    const innerRecord = buildZip([good[1]]).subarray(0, 30 + innerName.length + data0.length);
    const bytes = buildZip([good[0], { name: outerName, data: innerRecord }, good[2]], {
      directory: (d) => [
        ...d,
        {
          name: new TextEncoder().encode(innerName),
          method: 0,
          crc: crc32(data0),
          compressedSize: data0.length,
          size: data0.length,
          offset: d[1].offset + 30 + outerName.length,
        },
      ],
    });
    const out = refused(bytes, 'PTH_ZIP_OVERLAP');
    expect(out.error.message).toContain('record archive/padding');
    expect(out.error.message).toContain('overlaps record archive/data/0');
  });

  test('a record whose data runs into the next record: PTH_ZIP_OVERLAP', () => {
    const records = good.map((r) => ({ ...r, deflate: true }));
    const bytes = buildZip(records, {
      directory: (d) => d.map((e, i) => (i === 0 ? { ...e, compressedSize: e.compressedSize + 10 } : e)),
    });
    refused(bytes, 'PTH_ZIP_OVERLAP');
  });

  test('a record whose data runs into the central directory: PTH_ZIP_OVERLAP', () => {
    const bytes = buildZip(good, {
      directory: (d) =>
        d.map((e, i) => (i === 2 ? { ...e, compressedSize: e.compressedSize + 4, size: e.size + 4 } : e)),
    });
    const out = refused(bytes, 'PTH_ZIP_OVERLAP');
    expect(out.error.message).toContain('overlaps the central directory');
  });

  test('a record put before the archive, offsets not adjusted (Python would shift them): PTH_CORRUPT', () => {
    const stray = buildZip([{ name: 'archive/data.pkl', data: pickle(() => {}, [{ ...FC[0], name: 'evil.weight' }]) }]);
    const out = refused(buildZip(good, { prefix: stray.subarray(0, 30 + 16 + 100) }), 'PTH_CORRUPT');
    expect(out.error.message).toContain('central directory ends at byte');
  });

  test('an end record counting fewer entries than the directory holds (Python reads them all): PTH_CORRUPT', () => {
    const out = refused(buildZip(good, { count: 2 }), 'PTH_CORRUPT');
    expect(out.error.message).toContain('bytes past its 2 entries');
  });

  test('a local header naming another record than the directory: PTH_CORRUPT', () => {
    const bytes = buildZip([{ ...good[0], name: 'archive/data.pkX' }, good[1], good[2]], {
      directory: (d) => d.map((e, i) => (i === 0 ? { ...e, name: new TextEncoder().encode('archive/data.pkl') } : e)),
    });
    const out = refused(bytes, 'PTH_CORRUPT');
    expect(out.error.message).toContain('local header of archive/data.pkl names another record');
  });
});

describe('names with control characters', () => {
  test('layers whose names hold CR, LF and escape sequences load, with the raw names kept and warnings escaped', async () => {
    const { savePth, loadMlp } = await import('../src/index.js');
    const evil = '\x1b]0;pwned\x07\x1b[2J\r\n ok';
    const bytes = savePth({
      layers: [{ name: evil, weight: new Float32Array(6), bias: new Float32Array(2), in: 3, out: 2 }],
    });
    const model = await loadMlp(bytes);
    expect(model.layers.map((l) => l.name)).toEqual([evil]);
    expect(escapeControl(model.layers[0]!.name)).toBe('\\x1b]0;pwned\\x07\\x1b[2J\\r\\n ok');
  });
});
