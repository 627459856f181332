// The opcode table (src/opcodes.ts) against CPython: every name, byte and argument as pickletools lists them, and
// readOp framing every pickle of the good fixtures exactly where pickletools.genops does. Then the two users of
// readOp: the VM runs every opcode of the table, and the global scan reads names as the VM does.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { LIMITS, PthError, readPth } from '../src/index.js';
import { OP, OPCODES, OP_ARG, encodeOp, type ArgFormat } from '../src/opcodes.js';
import { unpickle } from '../src/pickle.js';
import { readEntry, readZip } from '../src/zip.js';
import { FIXTURES, PYTHON, bytesOf, good } from './helpers.js';
import { Pickle, opcodes, pth, stateDict } from './craft.js';

// pickletools' table, and genops over each file: one pickle for a zip (data.pkl), the five of a legacy file
// pickletools' table (each argument as its shape: n > 0 fixed bytes, -1 up to a newline, -2..-5 a length of uint1, int4,
// uint4 or uint8 bytes first), and genops over each file: one pickle for a zip (data.pkl), the five of a legacy file
const PICKLETOOLS = `
import io, json, pickletools, sys, zipfile
def shape(arg):
    if arg is None: return 'none'
    if arg.n > 0: return 'fixed ' + arg.name
    if arg.n == -1: return '2 lines' if arg.name == 'stringnl_noescape_pair' else '1 line'
    return 'prefixed ' + {-2: 'uint1', -3: 'int4', -4: 'uint4', -5: 'uint8'}[arg.n]
table = [[op.name, ord(op.code.encode('latin-1')), shape(op.arg)] for op in pickletools.opcodes]
walks = {}
for path in sys.argv[1:]:
    data = open(path, 'rb').read()
    if data[:2] == b'PK':
        z = zipfile.ZipFile(io.BytesIO(data))
        pickles = [z.read(next(n for n in z.namelist() if n.endswith('/data.pkl')))]
    else:
        f, pickles = io.BytesIO(data), []
        for _ in range(5):
            start = f.tell()
            for op, arg, pos in pickletools.genops(f):
                pass
            pickles.append(data[start:f.tell()])
    walks[path] = [[[ord(op.code.encode('latin-1')), pos] for op, arg, pos in pickletools.genops(p)] for p in pickles]
print(json.dumps({'table': table, 'walks': walks}))
`;

const files = good.fixtures.map((f) => join(FIXTURES, 'good', f.file));
const run = spawnSync(PYTHON, ['-c', PICKLETOOLS, ...files], {
  encoding: 'utf8',
  timeout: 120_000,
  maxBuffer: 64 << 20,
});
const cpython =
  run.status === 0
    ? (JSON.parse(run.stdout) as { table: [string, number, string][]; walks: Record<string, [number, number][][]> })
    : null;
if (!cpython)
  console.warn(
    `opcode table check against pickletools skipped: ${PYTHON} failed (${(run.stderr || run.error?.message || '').trim().split('\n').pop()})`,
  );

/** An argument's shape, worded as the script above words pickletools' descriptors. */
function shape(arg: ArgFormat): string {
  switch (arg.kind) {
    case 'none':
      return 'none';
    case 'lines':
      return arg.lines === 2 ? '2 lines' : '1 line';
    default:
      return `${arg.kind} ${arg.number}`;
  }
}

/** The pickles of a file as readOp walks them: [opcode, offset] of each opcode, per pickle. */
function walk(bytes: Uint8Array): [number, number][][] {
  if (bytes[0] === 0x50) {
    const zip = readZip(bytes);
    const pkl = readEntry(zip, [...zip.entries.values()].find((e) => e.name.endsWith('/data.pkl'))!);
    return [opcodes(pkl).map((o) => [o.op, o.start])];
  }
  const out: [number, number][][] = [];
  for (let at = 0, k = 0; k < 5; k++) {
    const ops = opcodes(bytes.subarray(at));
    out.push(ops.map((o) => [o.op, o.start]));
    at += ops[ops.length - 1].end;
  }
  return out;
}

describe.skipIf(!cpython)("the opcode table is CPython's (pickletools)", () => {
  test('the same names, bytes and arguments, opcode for opcode', () => {
    const ours = Object.entries(OP).map(([name, code]) => [name, code, shape(OP_ARG[code]!)]);
    expect(ours.sort()).toEqual(cpython!.table.sort());
  });

  test('readOp frames every pickle of the good fixtures where pickletools.genops does', () => {
    for (const file of files) expect(walk(bytesOf(file)), file).toEqual(cpython!.walks[file]);
  });
});

describe('the VM and the global scan read opcodes through readOp', () => {
  test('the VM runs every opcode of the table; a byte that is none is refused with its offset', () => {
    for (const op of OPCODES) {
      const arg = OP_ARG[op]!;
      const body =
        arg.kind === 'none'
          ? encodeOp(op)
          : arg.kind === 'lines'
            ? encodeOp(op, arg.lines === 2 ? ['a', 'b'] : ['0'])
            : encodeOp(op, 0);
      let message = '';
      try {
        unpickle(Uint8Array.from([...encodeOp(OP.PROTO, 2), ...body, OP.STOP]), { globals: new Map() });
      } catch (e) {
        expect(e).toBeInstanceOf(PthError);
        message = (e as PthError).message;
      }
      expect(message, `0x${op.toString(16)}`).not.toMatch(/unknown opcode/);
    }
    expect(() => unpickle(Uint8Array.of(OP.PROTO, 2, 0xff, OP.STOP), { globals: new Map() })).toThrow(
      /unknown opcode 0xff at byte 2/,
    );
  });

  test('each way an argument cannot be read has its code: cut, negative length, a length of 2^53 or more', () => {
    const failure = (...body: number[]) => {
      try {
        unpickle(Uint8Array.from([OP.PROTO, 2, ...body]), { globals: new Map() });
      } catch (e) {
        return `${(e as PthError).code} ${(e as PthError).message}`;
      }
      return 'loaded';
    };
    expect(failure(OP.BININT, 1, 2)).toMatch(/^PTH_TRUNCATED pickle ends in the middle of an opcode/);
    expect(failure(OP.BINUNICODE, 9, 0, 0, 0, 0x61)).toMatch(/^PTH_TRUNCATED pickle ends in the middle of an opcode/);
    expect(failure(...encodeOp(OP.GLOBAL, ['os', 'system']).slice(0, -1))).toMatch(
      /^PTH_TRUNCATED pickle ends in the middle of a text opcode/,
    );
    expect(failure(...encodeOp(OP.LONG4, -1))).toMatch(/^PTH_BAD_PICKLE .*\(negative LONG4 length\)/);
    expect(failure(...encodeOp(OP.BINSTRING, -1))).toMatch(/^PTH_BAD_PICKLE .*\(negative length\)/);
    expect(failure(...encodeOp(OP.BINUNICODE8, 2 ** 53))).toMatch(/^PTH_LIMIT .*64-bit length of 2\^53 bytes or more/);
    expect(failure(...encodeOp(OP.FRAME, 2 ** 60), OP.NONE, OP.STOP)).toMatch(
      /^PTH_LIMIT .*64-bit length of 2\^53 bytes or more/,
    );
    expect(failure(...encodeOp(OP.FRAME, 2 ** 53 - 1), OP.NONE, OP.STOP)).toBe('loaded');
  });

  // A pickle that names a module class (__main__.Net) is scanned whole first and refused as PTH_UNSAFE_GLOBAL when the
  // rest names a dangerous global: the scan must see the names the VM would build, however they are spelled.
  const refusal = async (names: (p: Pickle) => void) => {
    const p = new Pickle().proto(4).global('__main__', 'Net').op(OP.POP);
    names(p);
    const bytes = pth(
      stateDict(p.op(OP.POP), [{ name: 'w', key: '0', numel: 1, shape: [1] }])
        .stop()
        .bytesOut(),
      { 0: 1 },
    );
    return ((await readPth(bytes).catch((e: unknown) => e)) as PthError).code;
  };

  test('a plain module class is an inert record: the state_dict after it loads', async () => {
    expect(await refusal((p) => p.none())).toBeUndefined();
  });

  test('os.system named by protocol-0 STRING literals then STACK_GLOBAL: PTH_UNSAFE_GLOBAL', async () => {
    const line = (text: string) => Uint8Array.from(encodeOp(OP.STRING, [text]));
    expect(await refusal((p) => p.raw(line("'os'")).raw(line("'sys\\x74em'")).op(OP.STACK_GLOBAL))).toBe(
      'PTH_UNSAFE_GLOBAL',
    );
  });

  test('more memo entries than the VM keeps (names could hide behind them): PTH_UNSAFE_GLOBAL, quickly', async () => {
    const t0 = process.cpuUsage();
    expect(
      await refusal((p) =>
        p
          .str('a')
          .fill(OP.MEMOIZE, 4 * LIMITS.maxMemo)
          .op(OP.POP),
      ),
    ).toBe('PTH_UNSAFE_GLOBAL');
    const t = process.cpuUsage(t0);
    expect((t.user + t.system) / 1000).toBeLessThan(2000);
  });

  test('os.system through memo entries numbered by MEMOIZE after a BINPUT, as the VM numbers them: PTH_UNSAFE_GLOBAL', async () => {
    // BINPUT 7 makes one entry, so MEMOIZE stores 'system' at 1 (the VM's memo size), not at 0
    expect(
      await refusal((p) =>
        p.str('os').put(7).op(OP.POP).str('system').op(OP.MEMOIZE, OP.POP).get(7).get(1).op(OP.STACK_GLOBAL),
      ),
    ).toBe('PTH_UNSAFE_GLOBAL');
  });
});
