// inspect: format, root folder, tensors with statistics checked against an independent recount of the
// loader's tensors, the inferred MLP, warnings; a readable file that is not an MLP still gets its tensors listed.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readPth } from '@mnist/loader';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL, LOADER_FIXTURES, mnist } from './helpers.js';

describe('inspect', () => {
  it('--json describes the default model: zip, root folder, four tensors with exact statistics, the MLP', async () => {
    const run = mnist(['inspect', DEFAULT_MODEL, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc.format).toBe('zip');
    expect(doc.root).toBe('mnist_model');
    expect(doc.tensors.map((t: { name: string }) => t.name)).toEqual([
      'fc1.weight',
      'fc1.bias',
      'fc2.weight',
      'fc2.bias',
    ]);
    expect(doc.tensors.map((t: { shape: number[] }) => t.shape)).toEqual([[512, 784], [512], [10, 512], [10]]);
    const pth = await readPth(new Uint8Array(readFileSync(DEFAULT_MODEL)));
    for (const [i, t] of pth.tensors.entries()) {
      let min = Infinity,
        max = -Infinity,
        sum = 0;
      for (const v of t.data) {
        min = Math.min(min, v);
        max = Math.max(max, v);
        sum += v;
      }
      expect(doc.tensors[i].dtype).toBe('float32');
      expect(doc.tensors[i].min).toBe(min);
      expect(doc.tensors[i].max).toBe(max);
      expect(doc.tensors[i].mean).toBeCloseTo(sum / t.data.length, 10);
      expect(doc.tensors[i].nan).toBe(0);
    }
    expect(doc.mlp).toEqual({
      layers: [
        { name: 'fc1', in: 784, out: 512 },
        { name: 'fc2', in: 512, out: 10 },
      ],
      inputSize: 784,
      classes: 10,
      parameters: 407_050,
      dtype: 'float32',
      // A state_dict records neither: ReLU and no normalization are assumed.
      activations: ['relu'],
      normalize: null,
      settingsSource: { activation: 'assumed', normalize: 'assumed' },
    });
    expect(doc.warnings).toEqual([]);
  });

  it('says whether a checkpoint dict holds a state_dict or a whole model under its key', () => {
    const whole = mnist(['inspect', path.join(LOADER_FIXTURES, 'architectures', 'ckpt_whole_model.pth')]);
    expect(whole.code, whole.stderr).toBe(0);
    expect(whole.stdout).toMatch(/^checkpoint whole model under "model"; ignored: epoch$/m);
    const json = mnist(['inspect', path.join(LOADER_FIXTURES, 'architectures', 'ckpt_whole_model.pth'), '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ key: 'model', keyHolds: 'whole model' });
    const top = JSON.parse(mnist(['inspect', DEFAULT_MODEL, '--json']).stdout);
    expect([top.key, top.keyHolds]).toEqual([null, null]);
  });

  it('prints a readable summary', () => {
    const run = mnist(['inspect', DEFAULT_MODEL]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^format\s+zip .*root folder "mnist_model"$/m);
    expect(run.stdout).toMatch(/^\s+fc1\.weight\s+float32\s+512x784\s+-0\.3551\s+0\.3082\s+-0\.0019\s+0\s+0$/m);
    expect(run.stdout).toContain(
      '784 -> 512 -> 10: 2 Linear layers, activation relu (assumed), normalization none (assumed), 407,050 parameters',
    );
    expect(run.stdout).toMatch(
      /^ {10}assumed: ReLU between layers and no input normalization \(.*--activation and --normalize/m,
    );
    expect(run.stdout).toMatch(/^warnings\s+none$/m);
  });

  it('reports the legacy format, NaN counts and warnings', () => {
    const legacy = JSON.parse(mnist(['inspect', path.join(LOADER_FIXTURES, 'good', 'legacy.pth'), '--json']).stdout);
    expect(legacy.format).toBe('legacy');
    expect(legacy.root).toBeNull();
    const nan = mnist(['inspect', path.join(LOADER_FIXTURES, 'good', 'warn_nan_inf.pth'), '--json']);
    const doc = JSON.parse(nan.stdout);
    expect(doc.tensors.reduce((s: number, t: { nan: number; inf: number }) => s + t.nan + t.inf, 0)).toBeGreaterThan(0);
    expect(doc.warnings.length).toBeGreaterThan(0);
    const human = mnist(['inspect', path.join(LOADER_FIXTURES, 'good', 'warn_nan_inf.pth')]);
    expect(human.stdout).toMatch(/^warnings\s*\n\s+\S/m);
  });

  it('lists the tensors of a state_dict that is not an MLP and says why', () => {
    const run = mnist(['inspect', path.join(LOADER_FIXTURES, 'hostile', 'conv_net.pth'), '--json']);
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc.mlp).toBeNull();
    expect(doc.mlpError.code).toBe('PTH_NOT_MLP');
    expect(doc.tensors.some((t: { shape: number[] }) => t.shape.length === 4)).toBe(true);
  });
});
