// Training checkpoints between the engine and real PyTorch (test/training_torch.py, torch 1.13), both ways, on the
// same initial weights and MNIST batches: a run of 10 steps started in PyTorch, saved after 5 in PyTorch's layout and
// resumed in the engine, and one started in the engine, saved by saveRunCheckpoint and resumed in PyTorch with
// optimizer.load_state_dict / scheduler.load_state_dict, each match the uninterrupted run within 1e-5 (the optimizer
// goldens' bound) and take the same learning rates. Skipped, with the reason printed, when /usr/bin/python3 has no torch.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Mlp, Schedule, type ScheduleSpec, type TrainOptions } from '@mnist/core-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { readRunCheckpoint, saveRunCheckpoint, type ParamLayout } from '../src/index.js';
import { MNIST_PIXELS } from '../src/data/index.js';
import { HERE, PYTHON, mnistTestImages } from './helpers.js';

const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8', timeout: 60_000 });
const hasTorch = probe.status === 0;
if (!hasTorch) console.warn(`training checkpoints with PyTorch skipped: \`${PYTHON} -c "import torch"\` failed`);

const dir = mkdtempSync(join(tmpdir(), 'loader-training-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SIZES = [MNIST_PIXELS, 16, 10];
const STEPS = 10,
  SPLIT = 5,
  BATCH = 16;
const x = mnistTestImages(STEPS * BATCH);
const y = Uint8Array.from({ length: STEPS * BATCH }, (_, i) => (i * 7 + 3) % 10); // fixed labels: any target works
const layout: ParamLayout[] = [
  { out: 16, in: 784, hasBias: true },
  { out: 10, in: 16, hasBias: true },
];
const names = ['0', '2'];

interface Case {
  name: string;
  torchOptimizer: Record<string, unknown>;
  engine: TrainOptions;
  torchSchedule: Record<string, unknown>;
  schedule: ScheduleSpec;
  lr: number;
}
const CASES: Case[] = [
  {
    name: 'Adam + OneCycleLR (beta1 cycled)',
    torchOptimizer: { name: 'adam', lr: 1e-3 },
    engine: { optimizer: 'adam', lr: 1e-3 },
    torchSchedule: { kind: 'onecycle', max_lr: 0.01, total: STEPS },
    schedule: { kind: 'onecycle', maxLr: 0.01, total: STEPS },
    lr: 1e-3,
  },
  {
    name: 'SGD Nesterov + weight decay + LinearLR warm-up then cosine',
    torchOptimizer: { name: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true, weight_decay: 1e-3 },
    engine: { optimizer: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-3 },
    torchSchedule: { kind: 'cosine_warmup', start_factor: 0.25, warmup: 3, total: 7, min_lr: 1e-3 },
    schedule: { kind: 'cosine', warmup: 3, warmupStartFactor: 0.25, total: 7, minLr: 1e-3 },
    lr: 0.1,
  },
  {
    name: 'AdamW amsgrad + StepLR',
    torchOptimizer: { name: 'adamw', lr: 3e-3, weight_decay: 0.05, amsgrad: true },
    engine: { optimizer: 'adamw', lr: 3e-3, weightDecay: 0.05, amsgrad: true },
    torchSchedule: { kind: 'step', step_size: 3, gamma: 0.5 },
    schedule: { kind: 'step', stepSize: 3, gamma: 0.5 },
    lr: 3e-3,
  },
];

function python(spec: object): { lrs: number[]; keys?: string[] } {
  const path = join(dir, `spec-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify(spec));
  const r = spawnSync(PYTHON, [join(HERE, 'training_torch.py'), path], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`training_torch.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

const readF32 = (path: string) => {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
};

function maxdiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const flat = (net: Mlp) =>
  Float32Array.from([0, 1].flatMap((i) => [...net.getLayer(i).weight, ...net.getLayer(i).bias]));

/** Engine steps [start, end) with the schedule's lr (and OneCycle's beta1 / momentum). */
function engineRun(net: Mlp, c: Case, schedule: Schedule, start: number, end: number): number[] {
  const lrs: number[] = [];
  for (let k = start; k < end; k++) {
    let o = { ...c.engine, lr: schedule.lr } as TrainOptions;
    if (schedule.momentum !== null && o.optimizer !== 'sgd')
      o = { ...o, betas: [schedule.momentum, 0.999] as [number, number] } as TrainOptions;
    lrs.push(schedule.lr);
    net.trainBatch(
      x.subarray(k * BATCH * 784, (k + 1) * BATCH * 784),
      y.subarray(k * BATCH, (k + 1) * BATCH),
      BATCH,
      o,
    );
    schedule.step();
  }
  return lrs;
}

describe.skipIf(!hasTorch)('training checkpoints with real PyTorch', () => {
  for (const c of CASES) {
    it(`${c.name}: PyTorch -> engine and engine -> PyTorch resume the uninterrupted run`, async () => {
      const init = await Mlp.create(SIZES, { seed: 21 });
      const initPath = join(dir, 'init.bin'),
        xPath = join(dir, 'x.bin'),
        yPath = join(dir, 'y.bin');
      writeFileSync(initPath, flat(init));
      writeFileSync(xPath, x);
      writeFileSync(yPath, y);
      const base = { sizes: SIZES, steps: STEPS, batch: BATCH, split: SPLIT, init: initPath, x: xPath, y: yPath };
      const spec = (mode: string, extra: object) => ({
        ...base,
        mode,
        optimizer: { ...c.torchOptimizer },
        schedule: c.torchSchedule,
        ...extra,
      });

      // uninterrupted, in both
      const torchStraight = python(spec('straight', { out: join(dir, 'torch-straight.bin') }));
      const straight = await Mlp.create(SIZES, { seed: 21 });
      const lrs = engineRun(straight, c, new Schedule(c.schedule, c.lr), 0, STEPS);
      const dStraight = maxdiff(flat(straight), readF32(join(dir, 'torch-straight.bin')));
      lrs.forEach((lr, i) => expect(Math.abs(lr - torchStraight.lrs[i]!) / lr).toBeLessThan(1e-12));

      // PyTorch -> engine
      const torchCk = join(dir, 'torch-ck.pth');
      python(spec('save', { checkpoint: torchCk, out: join(dir, 'unused.bin') }));
      const read = await readRunCheckpoint(new Uint8Array(readFileSync(torchCk)), () => layout, c.engine.optimizer);
      expect(read.epoch).toBe(1);
      expect(read.scheduleSteps).toBe(SPLIT);
      expect(read.run).toBeNull();
      const resumed = await Mlp.create(SIZES, { seed: 99 });
      read.model.forEach((t, i) => {
        if (i % 2 === 0) resumed.setLayer(i / 2, t.data, read.model[i + 1]!.data);
      });
      resumed.setOptimizerState(read.optimizer!, { amsgrad: 'amsgrad' in c.engine && c.engine.amsgrad === true });
      const schedule = Schedule.restore({ spec: c.schedule, baseLr: c.lr, steps: read.scheduleSteps!, lr: 0 });
      // the restored schedule stands where PyTorch's did: the lr of step SPLIT
      expect(Math.abs(schedule.lr - torchStraight.lrs[SPLIT]!) / schedule.lr).toBeLessThan(1e-12);
      engineRun(resumed, c, schedule, SPLIT, STEPS);
      const dFromTorch = maxdiff(flat(resumed), flat(straight));

      // engine -> PyTorch
      const first = await Mlp.create(SIZES, { seed: 21 });
      const s1 = new Schedule(c.schedule, c.lr);
      engineRun(first, c, s1, 0, SPLIT);
      const bytes = saveRunCheckpoint({
        epoch: 1,
        model: [0, 1].flatMap((i) => [
          { name: `${names[i]}.weight`, shape: [layout[i]!.out, layout[i]!.in], data: first.getLayer(i).weight },
          { name: `${names[i]}.bias`, shape: [layout[i]!.out], data: first.getLayer(i).bias },
        ]),
        layout,
        optimizer: first.optimizerState(),
        optimizerConfig: c.engine,
        lr: s1.lr,
        momentum: s1.momentum,
        schedule: s1.state(),
        run: { note: 'engine run' },
      });
      const ourCk = join(dir, 'our-ck.pth');
      writeFileSync(ourCk, bytes);
      const cont = python(spec('resume', { checkpoint: ourCk, out: join(dir, 'torch-resumed.bin') }));
      expect(cont.keys).toEqual([
        'epoch',
        'mnist_wasm',
        'model_state_dict',
        'optimizer_state_dict',
        'scheduler_state_dict',
      ]);
      cont.lrs.forEach((lr, i) => expect(Math.abs(lr - torchStraight.lrs[SPLIT + i]!) / lr).toBeLessThan(1e-12));
      const dToTorch = maxdiff(readF32(join(dir, 'torch-resumed.bin')), readF32(join(dir, 'torch-straight.bin')));
      // and the engine reads its own file back: the same state, the run description
      const back = await readRunCheckpoint(bytes, () => layout);
      expect(back.run).toEqual({ note: 'engine run' });
      expect(back.optimizer!.optimizer).toBe(c.engine.optimizer);

      console.log(
        `${c.name}: engine vs PyTorch straight ${dStraight.toExponential(2)}, PyTorch->engine ${dFromTorch.toExponential(2)}, engine->PyTorch ${dToTorch.toExponential(2)}`,
      );
      expect(dStraight).toBeLessThan(1e-5);
      expect(dFromTorch).toBeLessThan(1e-5);
      expect(dToTorch).toBeLessThan(1e-5);
      for (const n of [init, straight, resumed, first]) n.dispose();
    });
  }
});
