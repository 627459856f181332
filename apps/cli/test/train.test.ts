// train: a short real run writes a .pth that predict, the loader and (when present) real PyTorch read back
// identically; refuses to overwrite before training; fine-tunes with --init; Ctrl-C keeps the last epoch.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadMlp } from '@mnist/loader';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL, MNIST_DIR, mnist, mnistChild, oneLineError, tempDir, torchPython } from './helpers.js';

const dir = tempDir();
const small = path.join(dir, 'small.pth');
// 1 epoch over 6,000 images with 64 hidden units: a couple of seconds.
const trainRun = mnist([
  'train',
  '--epochs',
  '1',
  '--train-limit',
  '6000',
  '--hidden',
  '64',
  '--seed',
  '7',
  '--out',
  small,
]);

describe('train', () => {
  it('trains, reports per-epoch test accuracy, and writes the model atomically', () => {
    expect(trainRun.code, trainRun.stderr).toBe(0);
    expect(trainRun.stdout).toMatch(/^epoch 1\/1 {2}train loss [\d.]+ accuracy [\d.]+% {2}test accuracy \d+\.\d\d%/m);
    expect(trainRun.stdout).toContain(`wrote ${small}`);
    expect(existsSync(small)).toBe(true);
    expect(statSync(small).size).toBeGreaterThan(4 * (784 * 64 + 64 + 64 * 10 + 10));
    // No temporary file left behind.
    expect(spawnSync('ls', ['-a', dir], { encoding: 'utf8' }).stdout).not.toMatch(/\.tmp/);
  });

  it('writes a file that predict and the loader read back, with the accuracy train reported', async () => {
    const reported = Number(/test accuracy (\d+\.\d\d)%/.exec(trainRun.stdout)![1]);
    expect(reported).toBeGreaterThan(85);
    const predicted = JSON.parse(mnist(['predict', '--json', '--model', small]).stdout);
    expect((predicted.accuracy * 100).toFixed(2)).toBe(reported.toFixed(2));
    const model = await loadMlp(new Uint8Array(readFileSync(small)));
    expect(model.layers.map((l) => [l.name, l.in, l.out])).toEqual([
      ['fc1', 784, 64],
      ['fc2', 64, 10],
    ]);
    expect(model.warnings).toEqual([]);
  });

  it('writes a file real PyTorch loads with weights_only=True and computes the same logits', (ctx) => {
    const { python, reason } = torchPython();
    if (!python) {
      console.log(`skipped PyTorch interop: ${reason}`);
      ctx.skip();
      return;
    }
    const ours = JSON.parse(mnist(['predict', '--json', '--model', small, '--limit', '8']).stdout);
    const script = `
import sys, json, torch
sd = torch.load(sys.argv[1], weights_only=True)
raw = open(sys.argv[2], 'rb').read()
x = torch.tensor(list(raw[16:16 + 8 * 784]), dtype=torch.float32).reshape(8, 784) / 255
h = torch.relu(x @ sd['fc1.weight'].T + sd['fc1.bias'])
logits = h @ sd['fc2.weight'].T + sd['fc2.bias']
print(json.dumps({'keys': list(sd.keys()), 'shapes': [list(v.shape) for v in sd.values()], 'dtypes': [str(v.dtype) for v in sd.values()], 'logits': logits.tolist()}))
`;
    const r = spawnSync(python, ['-c', script, small, path.join(MNIST_DIR, 't10k-images-idx3-ubyte')], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const torch = JSON.parse(r.stdout);
    expect(torch.keys).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    expect(torch.shapes).toEqual([[64, 784], [64], [10, 64], [10]]);
    expect(torch.dtypes).toEqual(['torch.float32', 'torch.float32', 'torch.float32', 'torch.float32']);
    let maxdiff = 0;
    ours.predictions.forEach((p: { logits: number[] }, i: number) =>
      p.logits.forEach((v, j) => (maxdiff = Math.max(maxdiff, Math.abs(v - torch.logits[i][j])))),
    );
    console.log(`trained model, ours vs PyTorch: maxdiff logits ${maxdiff.toExponential(2)}`);
    expect(maxdiff).toBeLessThanOrEqual(1e-4);
  });

  it('refuses to overwrite an existing file without --force, before training', () => {
    const before = readFileSync(small);
    const run = mnist(['train', '--epochs', '1', '--train-limit', '6000', '--hidden', '64', '--out', small]);
    expect(run.code).toBe(1);
    expect(oneLineError(run)).toBe(
      `mnist train: output ${small} already exists; pass --force to overwrite it or --out to choose another file`,
    );
    expect(run.stdout).toBe('');
    expect(readFileSync(small).equals(before)).toBe(true);
    const forced = mnist([
      'train',
      '--epochs',
      '1',
      '--train-limit',
      '600',
      '--hidden',
      '16',
      '--seed',
      '3',
      '--out',
      small,
      '--force',
    ]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(small).equals(before)).toBe(false);
  });

  it('fine-tunes a loaded model with --init (keeps its layers and its accuracy)', async () => {
    const out = path.join(dir, 'finetuned.pth');
    const run = mnist([
      'train',
      '--init',
      DEFAULT_MODEL,
      '--epochs',
      '1',
      '--train-limit',
      '2000',
      '--lr',
      '0.001',
      '--momentum',
      '0',
      '--out',
      out,
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('fine-tuning');
    expect(Number(/test accuracy (\d+\.\d\d)%/.exec(run.stdout)![1])).toBeGreaterThan(97.5);
    const model = await loadMlp(new Uint8Array(readFileSync(out)));
    expect(model.layers.map((l) => [l.name, l.in, l.out])).toEqual([
      ['fc1', 784, 512],
      ['fc2', 512, 10],
    ]);
  });

  it('stops cleanly on Ctrl-C and keeps the last completed epoch, saying where', async () => {
    const out = path.join(dir, 'interrupted.pth');
    const child = mnistChild(['train', '--epochs', '1000', '--train-limit', '3000', '--hidden', '16', '--out', out]);
    let stdout = '',
      stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => {
      let sent = false;
      child.stdout.on('data', (d) => {
        stdout += d;
        if (!sent && /^epoch 2\/1000/m.test(stdout)) {
          sent = true;
          child.kill('SIGINT');
        }
      });
      child.on('exit', (c) => resolve(c));
    });
    expect(code).toBe(130);
    const kept = /kept the model after epoch (\d+) of 1000 .*: wrote (.+)$/m.exec(stderr);
    expect(kept, stderr).not.toBeNull();
    expect(Number(kept![1])).toBeGreaterThanOrEqual(2);
    expect(kept![2]).toBe(out);
    const model = await loadMlp(new Uint8Array(readFileSync(out)));
    expect(model.layers.map((l) => [l.in, l.out])).toEqual([
      [784, 16],
      [16, 10],
    ]);
  });

  it('--help names the default output file', () => {
    const run = mnist(['train', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('default ./mnist_model_trained.pth');
  });
});
