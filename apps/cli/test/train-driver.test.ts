// train through the shared driver (@mnist/core-wasm train()): the CLI's weights equal the library's for the same
// seed and options, bit for bit (the driver is one for every caller); a run stopped after an epoch and resumed from
// its --checkpoint writes the same bytes as the uninterrupted run; the checkpoint is PyTorch's dict layout; the
// optimizer, schedule and augmentation options are checked before any work.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Mlp, train } from '@mnist/core-wasm';
import { loadMlp } from '@mnist/loader';
import { MNIST_PIXELS, readIdxImages, readIdxLabels } from '@mnist/loader/data';
import { describe, expect, it } from 'vitest';
import { MNIST_DIR, mnist, oneLineError, tempDir, torchPython } from './helpers.js';

const dir = tempDir();
const N = 3000;
const RUN = [
  '--train-limit',
  String(N),
  '--hidden',
  '32',
  '--seed',
  '5',
  '--optimizer',
  'adamw',
  '--lr',
  '0.004',
  '--schedule',
  'cosine',
  '--warmup',
  '1',
  '--label-smoothing',
  '0.1',
  '--dropout',
  '0.1',
  '--augment',
  'shift=1.5,rotate=8,elastic',
  '--val',
  '500',
];

describe('train: the shared driver', () => {
  it('the CLI and the library give the same weights for one seed and the same options', async () => {
    const out = path.join(dir, 'cli.pth');
    // the plain SIMD build on both sides: relaxed SIMD fuses multiply-adds, so its bits differ from plain's
    const r = mnist(['train', '--epochs', '2', ...RUN, '--out', out], { env: { MNIST_SIMD: 'plain' } });
    expect(r.code, r.stderr).toBe(0);
    const cli = await loadMlp(new Uint8Array(readFileSync(out)));

    const bytes = (f: string) => new Uint8Array(readFileSync(path.join(MNIST_DIR, f)));
    const images = readIdxImages(bytes('train-images-idx3-ubyte'), 'train images', { rows: 28, cols: 28 });
    const labels = readIdxLabels(bytes('train-labels-idx1-ubyte'), 'train labels');
    const net = await Mlp.create([MNIST_PIXELS, 32, 10], { seed: 5, dropout: 0.1, threads: 1, simd: 'plain' });
    const result = await train(
      net,
      { images: images.pixels, labels: labels.labels, count: N },
      {
        epochs: 2,
        seed: 5,
        optimizer: { optimizer: 'adamw', lr: 0.004 },
        schedule: { kind: 'cosine', minLr: 0, warmup: 1 },
        labelSmoothing: 0.1,
        augment: { shift: 1.5, rotate: 8, elastic: { alpha: 34, sigma: 4 } },
        validation: 500,
      },
    );
    expect(result.stopped).toBe('done');
    cli.layers.forEach((L, i) => {
      const ours = net.getLayer(i);
      expect(
        Buffer.from(L.weight.buffer, L.weight.byteOffset, L.weight.byteLength).equals(Buffer.from(ours.weight.buffer)),
      ).toBe(true);
      expect(
        Buffer.from(L.bias!.buffer, L.bias!.byteOffset, L.bias!.byteLength).equals(Buffer.from(ours.bias.buffer)),
      ).toBe(true);
    });
    net.dispose();
  });

  it('a run stopped after epoch 1 and resumed from --checkpoint writes the bytes of the uninterrupted run', () => {
    const straight = path.join(dir, 'straight.pth');
    const ck = path.join(dir, 'run-ck.pth');
    const partial = path.join(dir, 'partial.pth');
    const resumed = path.join(dir, 'resumed.pth');
    const a = mnist(['train', '--epochs', '3', ...RUN, '--out', straight]);
    expect(a.code, a.stderr).toBe(0);
    const b = mnist(['train', '--epochs', '3', ...RUN, '--checkpoint', ck, '--stop-after', '1', '--out', partial]);
    expect(b.code, b.stderr).toBe(130);
    expect(b.stderr).toMatch(/kept the model after epoch 1 of 3/);
    const c = mnist(['train', '--resume', ck, '--out', resumed]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/^resuming .* after epoch 1 of 3$/m);
    expect(c.stdout).not.toMatch(/^epoch 1\/3/m);
    expect(c.stdout).toMatch(/^epoch 3\/3/m);
    expect(readFileSync(resumed).equals(readFileSync(straight))).toBe(true);
    // the same per-epoch numbers as the straight run
    const epochLines = (s: string) =>
      s
        .split('\n')
        .filter((l) => /^epoch [23]\/3/.test(l))
        .map((l) => l.replace(/ {2}[\d.]+ s, [\d,]+ images\/s$/, ''));
    expect(epochLines(c.stdout)).toEqual(epochLines(a.stdout));
  });

  it("the checkpoint is PyTorch's dict: torch.load reads it and the optimizer and scheduler load their state", (ctx) => {
    const { python, reason } = torchPython();
    if (!python) {
      console.log(`skipped PyTorch checkpoint check: ${reason}`);
      ctx.skip();
      return;
    }
    const ck = path.join(dir, 'run-ck.pth');
    const script = `
import sys, json, torch, warnings
warnings.simplefilter('ignore')
ck = torch.load(sys.argv[1])
m = torch.nn.Sequential(torch.nn.Linear(784, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
m.load_state_dict({k.replace('fc1', '0').replace('fc2', '2'): v for k, v in ck['model_state_dict'].items()})
opt = torch.optim.AdamW(m.parameters(), lr=0.004)
opt.load_state_dict(ck['optimizer_state_dict'])
L = torch.optim.lr_scheduler
s = L.SequentialLR(opt, [L.LinearLR(opt, start_factor=1/3, total_iters=1), L.CosineAnnealingLR(opt, T_max=2)], milestones=[1])
s.load_state_dict(ck['scheduler_state_dict'])
st = opt.state_dict()['state']
print(json.dumps({'keys': sorted(ck.keys()), 'epoch': ck['epoch'], 'step': float(st[0]['step']), 'buffers': sorted(st[0].keys()), 'lr': opt.param_groups[0]['lr'], 'last_epoch': s.last_epoch}))
`;
    const r = spawnSync(python, ['-c', script, ck], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout);
    expect(got.keys).toEqual([
      'epoch',
      'mnist_wasm',
      'model_state_dict',
      'optimizer_state_dict',
      'scheduler_state_dict',
    ]);
    expect(got.epoch).toBe(1);
    expect(got.buffers).toEqual(['exp_avg', 'exp_avg_sq', 'step']);
    expect(got.step).toBe(Math.ceil(2500 / 64));
    expect(got.last_epoch).toBe(1);
  });

  it("resumes a checkpoint PyTorch wrote: its Adam state, its param group's base lr and its StepLR position", (ctx) => {
    const { python, reason } = torchPython();
    if (!python) {
      console.log(`skipped PyTorch checkpoint resume: ${reason}`);
      ctx.skip();
      return;
    }
    const ck = path.join(dir, 'torch-ck.pth');
    const script = `
import sys, torch, warnings
warnings.simplefilter('ignore')
class Net(torch.nn.Module):
    def __init__(s):
        super().__init__(); s.fc1 = torch.nn.Linear(784, 32); s.fc2 = torch.nn.Linear(32, 10)
    def forward(s, x): return s.fc2(torch.relu(s.fc1(x)))
torch.manual_seed(0)
m = Net(); opt = torch.optim.Adam(m.parameters(), lr=1e-3); sch = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
x = torch.rand(32, 784); y = torch.randint(0, 10, (32,))
for i in range(3):
    opt.zero_grad(); torch.nn.functional.cross_entropy(m(x), y).backward(); opt.step()
sch.step()
torch.save({'epoch': 1, 'model_state_dict': m.state_dict(), 'optimizer_state_dict': opt.state_dict(), 'scheduler_state_dict': sch.state_dict(), 'loss': 0.5}, sys.argv[1])
`;
    const made = spawnSync(python, ['-c', script, ck], { encoding: 'utf8', timeout: 120_000 });
    expect(made.status, made.stderr).toBe(0);
    const noSchedule = mnist([
      'train',
      '--resume',
      ck,
      '--epochs',
      '2',
      '--train-limit',
      '1000',
      '--out',
      path.join(dir, 'never.pth'),
    ]);
    expect(noSchedule.code).toBe(2);
    expect(oneLineError(noSchedule)).toMatch(
      /holds a learning-rate scheduler's state \(StepLR: --schedule step --step-size 1 --gamma 0.5\)/,
    );
    const out = path.join(dir, 'from-torch.pth');
    const r = mnist([
      'train',
      '--resume',
      ck,
      '--epochs',
      '3',
      '--train-limit',
      '1000',
      '--schedule',
      'step',
      '--step-size',
      '1',
      '--gamma',
      '0.5',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^resuming .* after epoch 1 of 3$/m);
    expect(r.stdout).toMatch(/adam lr 0\.001 /); // initial_lr, not the decayed lr
    expect(r.stdout).toMatch(/^epoch 2\/3 .* lr 0\.0005 /m);
    expect(r.stdout).toMatch(/^epoch 3\/3 .* lr 0\.00025 /m);
  });

  it('refuses option mistakes before any work, in one line', () => {
    const cases: [string[], RegExp][] = [
      [['--patience', '2'], /--patience needs a validation split/],
      [['--betas', '0.9,0.99'], /--betas apply to --optimizer adam or adamw, not sgd/],
      [['--optimizer', 'adam', '--momentum', '0.5'], /--momentum apply to --optimizer sgd, not adam/],
      [['--schedule', 'onecycle', '--gamma', '0.5'], /--gamma does not apply to --schedule onecycle/],
      [['--augment', 'blur'], /invalid --augment: "blur"/],
      [['--dropout', '1'], /invalid --dropout/],
      [['--optimizer', 'rmsprop'], /invalid --optimizer: "rmsprop"/],
    ];
    for (const [args, re] of cases) {
      const r = mnist(['train', ...args, '--out', path.join(dir, 'never.pth')]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(oneLineError(r)).toMatch(re);
      expect(r.stdout).toBe('');
    }
    const notCk = mnist([
      'train',
      '--resume',
      path.join(MNIST_DIR, 'train-labels-idx1-ubyte'),
      '--out',
      path.join(dir, 'never.pth'),
    ]);
    expect(notCk.code).toBe(1);
    const changed = mnist([
      'train',
      '--resume',
      path.join(dir, 'run-ck.pth'),
      '--lr',
      '0.1',
      '--out',
      path.join(dir, 'never.pth'),
    ]);
    expect(changed.code).toBe(2);
    expect(oneLineError(changed)).toMatch(/--lr cannot change a resumed run/);
  });
});
