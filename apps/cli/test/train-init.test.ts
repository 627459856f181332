// train --init writes back what the user can load: the input's key names and dtypes, no bias it lacked (bias=False
// stays zero), the activation and normalization it trained with on the last line; folded BatchNorm is refused;
// --out F.safetensors round-trips through predict.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { readPth, savePth } from '@mnist/loader';
import { describe, expect, it } from 'vitest';
import { LOADER_FIXTURES, mnist, oneLineError, tempDir, torchPython } from './helpers.js';

const dir = tempDir();
const ARCH = path.join(LOADER_FIXTURES, 'architectures');
const small = ['--epochs', '1', '--train-limit', '640'];
const lastLine = (stdout: string) => stdout.trimEnd().split('\n').at(-1);

describe('train --init', () => {
  it('keeps a bias=False model without bias, under the same key names, loadable by PyTorch with strict=True', async (ctx) => {
    const out = path.join(dir, 'no_bias.pth');
    const run = mnist(['train', '--init', path.join(ARCH, 'sd_no_bias.pth'), ...small, '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('no bias in 0, 2: kept at zero and not written (bias=False)');
    const input = await readPth(new Uint8Array(readFileSync(path.join(ARCH, 'sd_no_bias.pth'))));
    const written = await readPth(new Uint8Array(readFileSync(out)));
    expect(written.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual(
      input.tensors.map((t) => [t.name, t.dtype, t.shape]),
    );
    expect(written.tensors.map((t) => t.name)).toEqual(['0.weight', '2.weight']);
    // it trained: the weights moved
    expect(written.tensors[0]!.data).not.toEqual(input.tensors[0]!.data);
    // the bias stayed zero in training: predict (zero bias for a layer without one) gets the accuracy train reported
    const reported = /test accuracy (\d+\.\d\d)%/.exec(run.stdout)![1];
    const predicted = mnist(['predict', '--json', '--model', out]);
    expect((JSON.parse(predicted.stdout).accuracy * 100).toFixed(2)).toBe(reported);

    const { python, reason } = torchPython();
    if (!python) {
      console.log(`skipped PyTorch interop: ${reason}`);
      ctx.skip();
      return;
    }
    const script = `
import sys, torch
m = torch.nn.Sequential(torch.nn.Linear(784, 32, bias=False), torch.nn.ReLU(), torch.nn.Linear(32, 10, bias=False))
m.load_state_dict(torch.load(sys.argv[1], weights_only=True), strict=True)
print('loaded')
`;
    const r = spawnSync(python, ['-c', script, out], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('loaded');
  });

  it('writes a float16 input back in float16 (PyTorch reads it as torch.float16)', async (ctx) => {
    const input = await readPth(new Uint8Array(readFileSync(path.join(ARCH, 'sd_tanh.pth'))));
    const half = path.join(dir, 'tanh_half.pth');
    writeFileSync(half, savePth(input.tensors.map((t) => ({ ...t, dtype: 'float16' as const }))));
    const out = path.join(dir, 'tanh_half_tuned.pth');
    const run = mnist(['train', '--init', half, '--activation', 'tanh', ...small, '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    const written = await readPth(new Uint8Array(readFileSync(out)));
    expect(written.tensors.map((t) => [t.name, t.dtype])).toEqual([
      ['0.weight', 'float16'],
      ['0.bias', 'float16'],
      ['2.weight', 'float16'],
      ['2.bias', 'float16'],
    ]);
    const { python, reason } = torchPython();
    if (!python) {
      console.log(`skipped PyTorch interop: ${reason}`);
      ctx.skip();
      return;
    }
    const r = spawnSync(
      python,
      [
        '-c',
        'import sys, torch; print(sorted({str(v.dtype) for v in torch.load(sys.argv[1], weights_only=True).values()}))',
        out,
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("['torch.float16']");
  });

  it('trains with the activation it was given and says so on the last line', () => {
    const out = path.join(dir, 'tanh.pth');
    const run = mnist([
      'train',
      '--init',
      path.join(ARCH, 'sd_tanh.pth'),
      '--activation',
      'tanh',
      ...small,
      '--out',
      out,
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(lastLine(run.stdout)).toBe(
      'trained with activation tanh and normalization none: load it into a network with the same',
    );
  });

  it('refuses a model with BatchNorm folded in, before training', () => {
    const out = path.join(dir, 'bn.pth');
    const run = mnist(['train', '--init', path.join(ARCH, 'sd_batchnorm.pth'), ...small, '--out', out]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(oneLineError(run)).toBe(
      `mnist train: cannot train ${path.join(ARCH, 'sd_batchnorm.pth')}: its BatchNorm ("1") was folded into the Linear layers, which is for inference only; train the original in PyTorch, or pass a model without BatchNorm`,
    );
  });

  it('writes --out F.safetensors with the same names, and predict reads it with the accuracy train reported', () => {
    const out = path.join(dir, 'tanh.safetensors');
    const run = mnist([
      'train',
      '--init',
      path.join(ARCH, 'sd_tanh.pth'),
      '--activation',
      'tanh',
      ...small,
      '--out',
      out,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const bytes = readFileSync(out);
    const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString('utf8'));
    expect(Object.keys(header)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    const reported = /test accuracy (\d+\.\d\d)%/.exec(run.stdout)![1];
    const predicted = mnist(['predict', '--json', '--model', out, '--activation', 'tanh']);
    expect(predicted.code, predicted.stderr).toBe(0);
    expect((JSON.parse(predicted.stdout).accuracy * 100).toFixed(2)).toBe(reported);
  });
});
