// Training checkpoints both ways. With real PyTorch (test/checkpoint_torch.py; skipped, with the reason printed,
// without it): checkpoints PyTorch trained and saved with SGD, Adam and AdamW under five schedulers are read into
// exactly what torch.load gives (values, Python types, tensor bits); written back by saveCheckpoint, PyTorch loads them
// into the same values and types, and optimizer/scheduler.load_state_dict + 5 more steps give bit-identical weights to
// resuming from PyTorch's own file. Without PyTorch: the committed checkpoint fixtures, round trips of every value
// type, and hostile or odd inputs refused with their codes within the read's budgets.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  LIMITS,
  PthError,
  PyOrderedDict,
  PyTuple,
  checkpointToPy,
  readCheckpointSync,
  readPthSync,
  saveCheckpoint,
  type CheckpointFile,
  type CheckpointInput,
  type PyDict,
  type PyValue,
  type TensorValue,
} from '../src/index.js';
import { readCheckpointWithLimits } from '../src/checkpoint.js';
import { OP } from '../src/opcodes.js';
import { Pickler, torchZip } from '../src/pickler.js';
import { PyWriter, StorageList } from '../src/py-value.js';
import type { ReadStats } from '../src/read.js';
import { Pickle, pth, tensor } from './craft.js';
import { FIXTURES, HERE, PYTHON, bytesOf } from './helpers.js';

const SCRIPT = join(HERE, 'checkpoint_torch.py');
const CONFIGS = [
  'sgd_nesterov_steplr',
  'sgd_plain_linearlr',
  'adam_cosine',
  'adamw_amsgrad_onecycle',
  'adam_sequential',
] as const;
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;

const probe = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], {
  encoding: 'utf8',
  timeout: 60_000,
});
const torchVersion = probe.status === 0 ? probe.stdout.trim() : null;
if (!torchVersion)
  console.warn(
    `checkpoints with PyTorch skipped: \`${PYTHON} -c "import torch"\` failed (${(probe.stderr || probe.error?.message || '').trim().split('\n').pop()})`,
  );

const dir = mkdtempSync(join(tmpdir(), 'loader-checkpoint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function python(...args: string[]): string {
  const r = spawnSync(PYTHON, ['-W', 'ignore', SCRIPT, ...args], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`${SCRIPT} ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

/** A value with its Python type spelled out, as checkpoint_torch.py's tag() spells torch.load's values. */
function tag(v: PyValue): unknown {
  if (v === null) return ['None'];
  if (typeof v === 'boolean') return ['bool', v];
  if (typeof v === 'bigint') return ['int', v.toString()];
  if (typeof v === 'number') {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(v);
    return ['float', b.toString('hex')];
  }
  if (typeof v === 'string') return ['str', v];
  if (v instanceof Uint8Array) return ['bytes', Buffer.from(v).toString('hex')];
  if (v instanceof PyTuple) return ['tuple', v.items.map(tag)];
  if (Array.isArray(v)) return ['list', v.map(tag)];
  if (v instanceof Map)
    return [v instanceof PyOrderedDict ? 'OrderedDict' : 'dict', [...v].map(([k, x]) => [tag(k), tag(x)])];
  const t = v as TensorValue;
  return [
    'tensor',
    t.dtype,
    t.shape,
    Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('base64'),
  ];
}

/** The PthError `fn` throws, checked to be one safe line with `code`. */
function refused(fn: () => unknown, code: string): PthError {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error, 'expected a PthError').toBeInstanceOf(PthError);
  const e = error as PthError;
  expect(e.code, e.message).toBe(code);
  expect(e.message.length).toBeLessThanOrEqual(LIMITS.maxMessageLength);
  expect(e.message).not.toMatch(CONTROL);
  return e;
}

const f32 = (...v: number[]) => Float32Array.from(v);
const tensorOf = (shape: number[], data: Float32Array, dtype: TensorValue['dtype'] = 'float32'): TensorValue => ({
  dtype,
  shape,
  data,
});

/** A small but complete checkpoint: two layers, Adam-like state (three ways of storing step), a scheduler, extras. */
function sample(): CheckpointInput {
  const layers = [
    { name: 'fc1', in: 3, out: 2, weight: f32(1, -2, 3, 0.5, -0, 1e-40), bias: f32(0.25, -0.75) },
    { name: 'fc2', in: 2, out: 1, weight: f32(Number.NaN, Infinity), bias: f32(-Infinity) },
  ];
  const buffers = (n: number) =>
    new Map<string, TensorValue | null>([
      ['exp_avg', tensorOf([n], new Float32Array(n).fill(0.5))],
      ['exp_avg_sq', tensorOf([n], new Float32Array(n).fill(0.25))],
    ]);
  return {
    epoch: 7,
    model: { layers },
    optimizer: {
      state: new Map([
        [0, { step: 12, buffers: buffers(6) }],
        [1, { step: 12, stepType: 'int', buffers: buffers(2) }],
        [2, { step: 12.5, stepType: 'float', buffers: new Map([['momentum_buffer', null]]) }],
      ]),
      paramGroups: [
        new Map<string, PyValue>([
          ['lr', 0.001],
          ['betas', new PyTuple([0.9, 0.999])],
          ['eps', 1e-8],
          ['weight_decay', 0n],
          ['amsgrad', false],
          ['foreach', null],
          ['params', [0n, 1n, 2n, 3n]],
        ]),
      ],
    },
    scheduler: new Map<string, PyValue>([
      ['T_max', 10n],
      ['eta_min', 0n],
      ['base_lrs', [0.001]],
      ['last_epoch', 12n],
      ['_last_lr', [0.000904508497187474]],
    ]),
    extra: new Map<string, PyValue>([
      ['loss', 0.123],
      ['big', -(2n ** 70n)],
      [
        'mixed',
        [1n, -1n, 255n, 256n, 65536n, -(2n ** 31n), 2n ** 31n, 2.5, -0, null, true, 'é\u{1f600}', new PyTuple([])],
      ],
      [
        'keys',
        new Map<string | bigint, PyValue>([
          [3n, 'three'],
          ['three', 3n],
        ]),
      ],
      ['ordered', new PyOrderedDict([['a', new Uint8Array([0, 255, 97])]])],
      ['best', tensorOf([], f32(0.875))],
      ['counts', tensorOf([3], f32(1, -2, 3), 'int64')],
      ['half', tensorOf([2], f32(0.5, 65504), 'float16')],
    ]),
  };
}

/** Pickles `top` as given, with no checkpoint rules: files saveCheckpoint would refuse to write. */
function rawCheckpoint(top: PyDict): Uint8Array {
  const p = new Pickler();
  p.op(OP.PROTO, 2);
  const storages = new StorageList();
  new PyWriter(p, storages).write(top);
  p.op(OP.STOP);
  return torchZip('archive', p.bytes(), storages.records);
}

/** sample()'s dict with `edit` applied to it. */
function edited(edit: (top: PyDict) => void): Uint8Array {
  const top = checkpointToPy(sample());
  edit(top);
  return rawCheckpoint(top);
}

/** Reads `bytes` with `limits`, keeping what the read spent (its budget's bytes and objects). */
function measured(bytes: Uint8Array, limits = LIMITS): { file?: CheckpointFile; error?: unknown; stats: ReadStats } {
  const stats: ReadStats = {
    builtBytes: 0,
    builtBytesBudget: 0,
    objects: 0,
    materializedElements: 0,
    inflatedBytes: 0,
  };
  try {
    return { file: readCheckpointWithLimits(bytes, limits, {}, stats), stats };
  } catch (error) {
    return { error, stats };
  }
}

const at = (d: PyValue | undefined, ...path: (string | bigint | number)[]): PyValue => {
  let v = d as PyValue;
  for (const k of path) v = typeof k === 'number' ? (v as PyValue[])[k] : (v as PyDict).get(k)!;
  return v;
};

// ---------------------------------------------------------------------------------------------------------------------

describe.skipIf(!torchVersion)(`checkpoints of real PyTorch ${torchVersion ?? ''}`, { timeout: 300_000 }, () => {
  const read = new Map<string, CheckpointFile>();
  beforeAll(() => {
    python('make', dir);
    for (const name of CONFIGS) read.set(name, readCheckpointSync(bytesOf(join(dir, `${name}.pth`))));
  });

  test.each(CONFIGS)(
    '%s: readCheckpoint gives what torch.load gives, Python types and tensor bits included',
    (name) => {
      const expected = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));
      const ck = read.get(name)!;
      expect(tag(checkpointToPy(ck))).toEqual(expected);
      expect(ck.epoch).toBe(2);
      expect(ck.model.map((t) => [t.name, t.shape])).toEqual([
        ['fc1.weight', [16, 784]],
        ['fc1.bias', [16]],
        ['fc2.weight', [10, 16]],
        ['fc2.bias', [10]],
      ]);
      expect(ck.format).toBe('zip');
      expect(ck.warnings).toEqual([]);
    },
  );

  test('the optimizer state and param_groups keep what each optimizer stores, with its types', () => {
    const sgd = read.get('sgd_nesterov_steplr')!.optimizer!;
    // params are numbered in group order: 0 fc1.weight, 1 fc2.weight, 2 fc1.bias, 3 fc2.bias
    expect(sgd.paramGroups.map((g) => g.get('params'))).toEqual([
      [0n, 1n],
      [2n, 3n],
    ]);
    expect(sgd.state.get(2)!.buffers.get('momentum_buffer')!.shape).toEqual([16]);
    expect(sgd.state.get(1)!.step).toBeUndefined();
    const g0 = sgd.paramGroups[0];
    expect([
      g0.get('momentum'),
      g0.get('dampening'),
      g0.get('nesterov'),
      g0.get('foreach'),
      g0.get('weight_decay'),
    ]).toEqual([
      0.9,
      0n, // PyTorch's default dampening is the int 0
      true,
      null,
      1e-4,
    ]);
    expect(sgd.paramGroups[1].get('weight_decay')).toBe(0n);
    expect(typeof g0.get('initial_lr')).toBe('number');

    const plain = read.get('sgd_plain_linearlr')!.optimizer!;
    expect([...plain.state.values()].map((s) => s.buffers.get('momentum_buffer'))).toEqual([null, null, null, null]);
    expect(plain.paramGroups[0].get('momentum')).toBe(0n);

    for (const name of ['adam_cosine', 'adamw_amsgrad_onecycle', 'adam_sequential']) {
      const o = read.get(name)!.optimizer!;
      expect(o.state.size).toBe(4);
      for (const s of o.state.values()) {
        expect([s.step, s.stepType]).toEqual([6, 'float32']);
        expect([...s.buffers.keys()]).toEqual(
          name === 'adamw_amsgrad_onecycle' ? ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'] : ['exp_avg', 'exp_avg_sq'],
        );
      }
      expect(o.paramGroups[0].get('betas')).toBeInstanceOf(PyTuple);
    }
    expect(read.get('adam_sequential')!.optimizer!.paramGroups[0].get('betas')).toEqual(new PyTuple([0.8, 0.99]));
  });

  test('scheduler states and the other entries keep their Python types', () => {
    const cosine = read.get('adam_cosine')!;
    expect([
      cosine.scheduler!.get('T_max'),
      cosine.scheduler!.get('eta_min'),
      cosine.scheduler!.get('last_epoch'),
    ]).toEqual([10n, 1e-5, 6n]);
    const seq = read.get('adam_sequential')!.scheduler!;
    expect(seq.get('_milestones')).toEqual([3n]);
    expect((seq.get('_schedulers') as PyDict[]).map((s) => s.get('last_epoch'))).toEqual([2n, 3n]);
    expect(read.get('adamw_amsgrad_onecycle')!.scheduler!.has('anneal_func')).toBe(false);

    const x = cosine.extra;
    expect([...x.keys()]).toEqual(['loss', 'best_acc', 'history', 'meta', 'specials', 'counts', 'f64']);
    expect(typeof x.get('loss')).toBe('number');
    expect(x.get('best_acc')).toEqual(tensorOf([], f32(0.875)));
    expect(x.get('history')).toEqual([1n, 2.5, null, true, 'x', new PyTuple([1n, 2.0]), new PyTuple([])]);
    const meta = x.get('meta') as PyDict;
    expect([meta.get('big'), meta.get('neg'), meta.get('very_negative'), meta.get(3n)]).toEqual([
      2n ** 70n,
      -3n,
      -(2n ** 40n),
      'an int key',
    ]);
    expect(meta.get('name')).toBe('mnist\n\x1b[31m'); // raw, as in the file
    expect(meta.get('nested')).toBeInstanceOf(PyOrderedDict);
    expect(meta.get('raw')).toEqual(new Uint8Array([0, 255, 97, 98]));
    const specials = x.get('specials') as number[];
    expect(specials.slice(0, 4)).toEqual([Number.NaN, Infinity, -Infinity, -0]);
    expect(Object.is(specials[3], -0)).toBe(true);
    expect(specials.slice(4)).toEqual([5e-324, 1, 0.1]);
    expect(x.get('counts')).toEqual(tensorOf([3], f32(1, 2, 3), 'int64'));
    expect(x.get('f64')).toEqual(tensorOf([2], f32(0.5, -2.5), 'float64'));
  });

  test('saveCheckpoint output: torch.load gives the same values and types; resuming there is bit-identical to resuming from PyTorch’s own file', () => {
    for (const name of CONFIGS) writeFileSync(join(dir, `${name}.ours.pth`), saveCheckpoint(read.get(name)!));
    const ck = read.get('adam_cosine')!;
    writeFileSync(join(dir, 'model_only.ours.pth'), saveCheckpoint({ epoch: ck.epoch, model: ck.model }));
    const report = JSON.parse(python('resume', dir));
    for (const name of CONFIGS) {
      const r = report[name];
      expect(r, name).toMatchObject({
        same_load: true,
        weights_identical: true,
        max_abs_diff: 0,
        optimizer_identical: true,
        scheduler_identical: true,
        uninterrupted_identical: true,
      });
      // torch 1.13's weights_only unpickler has no opcode for floats (BINFLOAT, 'G' = 71): it refuses PyTorch's own
      // optimizer checkpoints exactly as it refuses ours
      expect(r.weights_only_ours).toBe(r.weights_only_theirs);
    }
    if (report.torch.startsWith('1.13')) expect(report.adam_cosine.weights_only_ours).toBe('Unsupported operand 71');
    expect(report.model_only_weights_only).toBe('ok');
    // the schedules moved on: the learning rates after 11 steps are not the initial ones
    expect(report.sgd_nesterov_steplr.lr_after).toEqual([0.1 * 0.5 ** 5, 0.05 * 0.5 ** 5]);
  });

  test('our files read back into the same checkpoint', () => {
    for (const name of CONFIGS) {
      const ck = read.get(name)!;
      expect(tag(checkpointToPy(readCheckpointSync(saveCheckpoint(ck))))).toEqual(tag(checkpointToPy(ck)));
    }
  });

  test("torch 1.13's OneCycleLR state_dict as is (a bound method) is refused, saying what to save instead", () => {
    const e = refused(() => readCheckpointSync(bytesOf(join(dir, 'onecycle_whole.pth'))), 'PTH_UNSAFE_GLOBAL');
    expect(e.message).toContain('torch.optim.lr_scheduler.OneCycleLR');
    expect(e.hint).toContain("k != 'anneal_func'");
  });
});

// ---------------------------------------------------------------------------------------------------------------------

describe('checkpoints without PyTorch', () => {
  test('the committed PyTorch checkpoint fixtures: SGD momentum state, Adam under other keys, the legacy format', () => {
    const sgd = readCheckpointSync(bytesOf(join(FIXTURES, 'good', 'ckpt_model_state_dict.pth')));
    const plain = readPthSync(bytesOf(join(FIXTURES, 'good', 'ckpt_model_state_dict.pth')));
    expect(sgd.model).toEqual(plain.tensors);
    expect(sgd.epoch).toBe(3);
    expect([...sgd.extra.keys()]).toEqual(['loss', 'best_acc', 'note']);
    expect(sgd.extra.get('note')).toBe('hello');
    const o = sgd.optimizer!;
    expect(o.state.size).toBe(sgd.model.length);
    [...o.state.values()].forEach((s, i) =>
      expect(s.buffers.get('momentum_buffer')!.shape).toEqual(sgd.model[i].shape),
    );

    const adam = readCheckpointSync(bytesOf(join(FIXTURES, 'good', 'ckpt_state_dict_adam.pth')), {
      keys: { model: 'state_dict', optimizer: 'optimizer' },
    });
    expect([...adam.optimizer!.state.values()].map((s) => s.step)).toEqual([1, 1, 1, 1]);
    expect(adam.extra).toEqual(new Map([['arch', 'mlp']]));
    expect(adam.epoch).toBe(1);

    const legacy = readCheckpointSync(bytesOf(join(FIXTURES, 'good', 'ckpt_net_legacy.pth')), {
      keys: { model: 'net' },
    });
    expect(legacy.format).toBe('legacy');
    expect([legacy.optimizer, legacy.extra.get('acc')]).toEqual([null, 97.1]);
  });

  test('every value type round-trips: saveCheckpoint -> readCheckpoint gives checkpointToPy of the input', () => {
    const input = sample();
    const bytes = saveCheckpoint(input, { root: 'run-7' });
    const back = readCheckpointSync(bytes);
    expect(back.root).toBe('run-7');
    expect(tag(checkpointToPy(back))).toEqual(tag(checkpointToPy(input)));
    expect(back.model.map((t) => t.name)).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    expect([...back.optimizer!.state.values()].map((s) => [s.step, s.stepType])).toEqual([
      [12, 'float32'],
      [12, 'int'],
      [12.5, 'float'],
    ]);
    expect(back.extra.get('counts')).toEqual(tensorOf([3], f32(1, -2, 3), 'int64'));
    expect(back.warnings.join(' ')).toMatch(/fc2\.weight.*1 NaN and 1 infinite/);
    // other names for the entries, both ways
    const keys = { model: 'model', optimizer: 'optimizer', scheduler: 'lr_scheduler' };
    const renamed = readCheckpointSync(saveCheckpoint(input, { keys }), { keys });
    expect(tag(checkpointToPy(renamed, keys))).toEqual(tag(checkpointToPy(input, keys)));
    refused(() => readCheckpointSync(saveCheckpoint(input, { keys })), 'PTH_NO_STATE_DICT');
  });

  test('shared values stay shared both ways: 64 levels of [x, x] (2^64 leaves as a tree) are 64 lists', () => {
    let v: PyValue = [1n];
    for (let i = 0; i < 64; i++) v = [v, v];
    const bytes = saveCheckpoint({ model: [], extra: new Map([['laughs', v]]) });
    expect(bytes.length).toBeLessThan(4096); // the second reference to each list is a memo GET
    const { file, stats } = measured(bytes);
    let back = file!.extra.get('laughs') as PyValue[];
    for (let i = 0; i < 64; i++) {
      expect(back[0]).toBe(back[1]);
      back = back[0] as PyValue[];
    }
    expect(back).toEqual([1n]);
    expect(stats.objects).toBeLessThan(200); // each pickled list converted once
  });

  test('saveCheckpoint refuses values PyTorch would not get back (PTH_BAD_ARGUMENT)', () => {
    const bad = (edit: (c: CheckpointInput) => void, pattern: RegExp) => {
      const c = sample();
      edit(c);
      expect(refused(() => saveCheckpoint(c), 'PTH_BAD_ARGUMENT').message).toMatch(pattern);
    };
    bad((c) => (c.epoch = 1.5), /epoch is 1\.5, not an int/);
    bad(
      (c) => c.optimizer!.state.set(9, { buffers: new Map() }),
      /\['state'\]\[9\] is the state of parameter 9, which no param_group lists/,
    );
    bad((c) => c.optimizer!.state.get(0)!.buffers.set('step', null), /\['step'\] is given twice/);
    bad(
      (c) => c.optimizer!.state.get(0)!.buffers.set('exp_avg', 3n as unknown as TensorValue),
      /\['exp_avg'\] is the int 3, not a tensor or None/,
    );
    bad(
      (c) => c.optimizer!.paramGroups[0].set('lr', tensorOf([], f32(0.1))),
      /\['lr'\] is a tensor of shape \[\], not a number/,
    );
    bad(
      (c) => c.optimizer!.paramGroups.push(new Map([['params', [3n]]])),
      /parameter 3 is listed by .*\[0\] and .*\[1\]/,
    );
    bad(
      (c) => c.optimizer!.state.set(1, { step: 1.5, stepType: 'int', buffers: new Map() }),
      /\['step'\] is 1\.5, which is not an int/,
    );
    bad((c) => c.scheduler!.set('last_epoch', 3.0), /\['last_epoch'\] is the float 3, not an int/);
    bad((c) => c.extra!.set('epoch', 1n), /extra entry 'epoch' has the name of a checkpoint entry/);
    bad((c) => c.extra!.set('obj', { a: 1 } as unknown as PyValue), /^obj is a JS object, not a Python value/);
    bad(
      (c) => c.extra!.set('bad int64', tensorOf([1], f32(1.5), 'int64')),
      /holds 1\.5 at index 0, which is not a int64 value/,
    );
    bad((c) => {
      const cyclic: PyValue[] = [];
      cyclic.push(cyclic);
      c.extra!.set('cyclic', cyclic);
    }, /^cyclic\[0\] contains itself/);
  });

  test('wrong types and inconsistent optimizer state are refused with PTH_BAD_CHECKPOINT, naming the entry', () => {
    const bad = (edit: (top: PyDict) => void, pattern: RegExp, code = 'PTH_BAD_CHECKPOINT') =>
      expect(refused(() => readCheckpointSync(edited(edit)), code).message).toMatch(pattern);
    const state = (top: PyDict) => at(top, 'optimizer_state_dict', 'state') as PyDict;
    const group = (top: PyDict) => at(top, 'optimizer_state_dict', 'param_groups', 0) as PyDict;
    bad(
      (t) => (at(state(t), 0n) as PyDict).set('step', [1n, 2n]),
      /\['state'\]\[0\]\['step'\] is a list of 2 items, not a number/,
    );
    bad(
      (t) => (at(state(t), 0n) as PyDict).set('step', tensorOf([3], f32(1, 2, 3))),
      /\['step'\] is a tensor of shape \[3\], not a number/,
    );
    bad((t) => (at(state(t), 0n) as PyDict).set('exp_avg', 5n), /\['exp_avg'\] is the int 5, not a tensor or None/);
    bad((t) => state(t).set(7n, new Map()), /\['state'\]\[7\] is the state of parameter 7, which no param_group lists/);
    bad((t) => state(t).set('0', new Map()), /\['state'\] has the str key '0'/);
    bad(
      (t) => group(t).set('lr', tensorOf([], f32(0.1))),
      /\['param_groups'\]\[0\]\['lr'\] is a tensor of shape \[\], not a number/,
    );
    bad((t) => group(t).set('betas', [0.9, 0.999]), /\['betas'\] is a list of 2 items, not a tuple of two numbers/);
    bad((t) => group(t).set('amsgrad', 1n), /\['amsgrad'\] is the int 1, not a bool/);
    bad((t) => group(t).set('params', [0n, 1n, 1n]), /parameter 1 is listed by/);
    bad((t) => group(t).set('params', [0n, -1n]), /\['params'\]\[1\] is the int -1, not a parameter index/);
    bad((t) => (at(t, 'optimizer_state_dict') as PyDict).set('extra', 1n), /has the entry 'extra'/);
    bad(
      (t) => (at(t, 'optimizer_state_dict') as PyDict).set('param_groups', new Map()),
      /\['param_groups'\] is a dict of 0 entries, not a list/,
    );
    bad((t) => t.set('epoch', 2.0), /^epoch is the float 2, not an int/);
    bad((t) => t.set('epoch', tensorOf([], f32(2))), /^epoch is a tensor of shape \[\], not an int/);
    bad(
      (t) => (at(t, 'scheduler_state_dict') as PyDict).set('last_epoch', tensorOf([], f32(2))),
      /\['last_epoch'\] is a tensor/,
    );
    bad(
      (t) => (at(t, 'model_state_dict') as PyDict).set('fc1.bias', 0.5),
      /model_state_dict\['fc1.bias'\] is the float 0.5, not a tensor/,
    );
    bad((t) => t.set('model_state_dict', [1n]), /model_state_dict is a list of 1 items, not a dict/);
    bad(
      (t) => t.delete('model_state_dict'),
      /no 'model_state_dict' entry \(top-level keys: epoch, optimizer_state_dict/,
      'PTH_NO_STATE_DICT',
    );
    // control characters in keys are escaped in messages (raw in the values returned)
    bad(
      (t) => (at(t, 'model_state_dict') as PyDict).set('evil\x1b[2J\n', 1n),
      /\['evil\\x1b\[2J\\n'\] is the int 1, not a tensor/,
    );
  });

  test('None for the optimizer or scheduler state is no state', () => {
    const ck = readCheckpointSync(
      edited((t) => {
        t.set('optimizer_state_dict', null);
        t.set('scheduler_state_dict', null);
      }),
    );
    expect([ck.optimizer, ck.scheduler, ck.epoch]).toEqual([null, null, 7]);
    expect(ck.model).toHaveLength(4);
  });

  test('what is not a checkpoint says so', () => {
    const plain = refused(
      () => readCheckpointSync(bytesOf(join(FIXTURES, 'good', 'zip_f32.pth'))),
      'PTH_BAD_CHECKPOINT',
    );
    expect(plain.message).toContain('plain state_dict');
    expect(plain.hint).toContain('readPth');
    const single = new Pickle().proto(2);
    tensor(single, { key: '0', numel: 6, shape: [2, 3] }).stop();
    expect(refused(() => readCheckpointSync(pth(single.bytesOut(), { 0: 6 })), 'PTH_BAD_CHECKPOINT').message).toContain(
      'a single tensor',
    );
  });

  // Inputs the writer cannot make, assembled opcode by opcode: {'model_state_dict': {}, 'x': <value>}
  function withValue(value: (p: Pickle) => void): Uint8Array {
    const p = new Pickle().proto(2).op(OP.EMPTY_DICT).str('model_state_dict').op(OP.EMPTY_DICT, OP.SETITEM).str('x');
    value(p);
    return pth(p.op(OP.SETITEM).stop().bytesOut());
  }

  test('cycles, keys other than str and int, and Python objects are refused', () => {
    const cyclic = withValue((p) => p.op(OP.EMPTY_LIST).put(90).get(90).op(OP.APPEND));
    expect(refused(() => readCheckpointSync(cyclic), 'PTH_BAD_CHECKPOINT').message).toMatch(/x\[0\] contains itself/);
    const keyed = (key: (p: Pickle) => void, what: string) => {
      const bytes = withValue((p) => {
        p.op(OP.EMPTY_DICT);
        key(p);
        p.none().op(OP.SETITEM);
      });
      expect(refused(() => readCheckpointSync(bytes), 'PTH_BAD_CHECKPOINT').message).toContain(`x has a ${what} key`);
    };
    keyed((p) => p.op(...[OP.BINFLOAT, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]), 'float');
    keyed((p) => p.op(OP.NEWTRUE), 'bool');
    keyed((p) => p.none(), 'None');
    keyed((p) => p.op(OP.SHORT_BINBYTES, 1, 0x61), 'bytes');
    const args = withValue((p) =>
      p.global('argparse', 'Namespace').op(OP.EMPTY_TUPLE, OP.REDUCE, OP.EMPTY_DICT, OP.BUILD),
    );
    const e = refused(() => readCheckpointSync(args), 'PTH_BAD_CHECKPOINT');
    expect(e.message).toContain('x is a argparse.Namespace object');
    expect(e.hint).toContain('vars(args)');
    refused(() => readCheckpointSync(withValue((p) => p.global('os', 'system'))), 'PTH_UNSAFE_GLOBAL');
  });

  test('huge lists stop at the read budget: 1.5M ints (3 MB of pickle) in param_groups', () => {
    const p = new Pickle().proto(2).op(OP.EMPTY_DICT).str('model_state_dict').op(OP.EMPTY_DICT, OP.SETITEM);
    p.str('optimizer_state_dict').op(OP.EMPTY_DICT).str('param_groups').op(OP.EMPTY_LIST, OP.EMPTY_DICT).str('params');
    p.op(OP.EMPTY_LIST);
    for (let i = 0; i < 3; i++) {
      p.op(OP.MARK);
      p.raw(new Uint8Array(1_000_000).map((_, j) => (j % 2 === 0 ? OP.BININT1 : 0)));
      p.op(OP.APPENDS);
    }
    p.op(OP.SETITEM, OP.APPEND, OP.SETITEM, OP.SETITEM).stop();
    const out = measured(pth(p.bytesOut()));
    expect(out.error).toBeInstanceOf(PthError);
    expect((out.error as PthError).code).toBe('PTH_LIMIT');
    expect((out.error as PthError).message).toMatch(/VM (bytes|objects) budget/);
    expect(out.stats.builtBytes).toBeLessThanOrEqual(out.stats.builtBytesBudget);
  });

  test('a list of 1M references to one 100k-item list converts the inner list once (100k ints, not 10^11)', () => {
    const p = new Pickle().proto(2).op(OP.EMPTY_DICT).str('model_state_dict').op(OP.EMPTY_DICT, OP.SETITEM).str('x');
    p.op(OP.EMPTY_LIST).op(OP.EMPTY_LIST).put(1).op(OP.MARK);
    p.raw(new Uint8Array(200_000).map((_, j) => (j % 2 === 0 ? OP.BININT1 : 7)));
    p.op(OP.APPENDS, OP.POP, OP.MARK);
    p.raw(new Uint8Array(2_000_000).map((_, j) => (j % 2 === 0 ? OP.BINGET : 1)));
    p.op(OP.APPENDS, OP.SETITEM).stop();
    const { file, stats } = measured(pth(p.bytesOut()));
    const x = file!.extra.get('x') as PyValue[][];
    expect(x).toHaveLength(1_000_000);
    expect(stats.objects).toBeLessThan(100_100);
    expect(x[0]).toBe(x[999_999]);
    expect(x[0]).toHaveLength(100_000);
  });

  test(`tensors: at most maxTensors distinct ones (here 5), however many places name them`, () => {
    const limits = { ...LIMITS, maxTensors: 5 };
    const five = saveCheckpoint({
      model: Array.from({ length: 5 }, (_, i) => ({ name: `t${i}`, shape: [1], data: f32(i) })),
    });
    expect(readCheckpointWithLimits(five, limits).model).toHaveLength(5);
    const shared = tensorOf([1], f32(1));
    const again = saveCheckpoint({
      model: Array.from({ length: 5 }, (_, i) => ({ name: `t${i}`, shape: [1], data: f32(i) })),
      extra: new Map([['same', Array.from({ length: 100 }, () => shared)]]),
    });
    const e = measured(again, limits).error as PthError;
    expect(e.code).toBe('PTH_LIMIT');
    expect(e.message).toContain('more than 5 tensors');
    const fiveDistinct = saveCheckpoint({
      model: Array.from({ length: 4 }, (_, i) => ({ name: `t${i}`, shape: [1], data: f32(i) })),
      extra: new Map([['same', Array.from({ length: 100 }, () => shared)]]),
    });
    const back = readCheckpointWithLimits(fiveDistinct, limits).extra.get('same') as TensorValue[];
    expect(back[0]).toBe(back[99]);
  });
});
