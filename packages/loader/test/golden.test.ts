// Golden tests: every fixture made by real PyTorch loads, and its logits (core-wasm and a float64 JS forward) match
// PyTorch's to 1e-4; the metadata (format, root, checkpoint key, names, shapes, dtype, warnings) is what was written.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadMlp, readPth, toMlp, type MlpLayer } from '../src/index.js';
import { MNIST_CLASSES, MNIST_PIXELS } from '../src/data/index.js';
import {
  FIXTURES,
  DEFAULT_MODEL,
  HERE,
  good,
  bytesOf,
  mnistTestImages,
  forward64,
  maxAbsDiff,
  REPO,
} from './helpers.js';
import { readFileSync, readdirSync } from 'node:fs';

// A devDependency that turbo builds first; run on its own, this file needs it built.
const { Mlp } = await import('@mnist/core-wasm').catch((e: unknown) => {
  throw new Error(
    `@mnist/core-wasm is not built (${String((e as Error)?.message).split('\n')[0]}): run pnpm --filter @mnist/core-wasm build`,
  );
});

async function coreForward(layers: MlpLayer[], x: Float32Array, n: number): Promise<Float32Array> {
  const net = await Mlp.fromLayers(layers);
  const out = net.forward(x, n).slice();
  net.dispose();
  return out;
}

const N = 8;
const images = mnistTestImages(16);

describe('good fixtures (logits through @mnist/core-wasm and a float64 JS forward)', () => {
  test('the manifest lists every case', () => {
    expect(good.fixtures.length).toBeGreaterThanOrEqual(30);
  });
  for (const fx of good.fixtures) {
    test(`${fx.file}: ${fx.case}`, async () => {
      const model = await loadMlp(bytesOf(join(FIXTURES, 'good', fx.file)));
      expect(model.file.format).toBe(fx.format);
      if (fx.format === 'zip') expect(model.file.root).toBe(fx.root);
      else expect(model.file.root).toBeNull();
      expect(model.file.key).toBe(fx.key);
      expect(model.file.tensors.map((t) => t.name)).toEqual(fx.names);
      expect(model.file.tensors.map((t) => t.shape)).toEqual(fx.shapes);
      expect(model.dtype).toBe(fx.dtype);
      expect(model.layers.map((l) => [l.in, l.out])).toEqual(fx.layers);
      expect(model.warnings.length).toBe(fx.warnings);
      if (fx.logits === null) {
        expect(model.warnings.join('\n')).toMatch(/NaN/);
        return;
      }
      const expected = fx.logits.flat();
      const x = images.subarray(0, N * MNIST_PIXELS);
      const js = forward64(model.layers, x, N);
      expect(maxAbsDiff(js, expected)).toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(await coreForward(model.layers, x, N), expected)).toBeLessThanOrEqual(1e-4);
    });
  }
});

describe('default model (models/mnist_model.pth)', () => {
  const meta = JSON.parse(readFileSync(join(REPO, 'models', 'mnist_model.json'), 'utf8'));
  test('is a 784-512-10 float32 state_dict with keys fc1.*, fc2.*', async () => {
    const m = await loadMlp(bytesOf(DEFAULT_MODEL));
    expect(m.layers.map((l) => [l.name, l.in, l.out])).toEqual([
      ['fc1', MNIST_PIXELS, 512],
      ['fc2', 512, MNIST_CLASSES],
    ]);
    expect(m.parameters).toBe(MNIST_PIXELS * 512 + 512 + 512 * MNIST_CLASSES + MNIST_CLASSES);
    expect(m.inputSize).toBe(MNIST_PIXELS);
    expect(m.classes).toBe(MNIST_CLASSES);
    expect(m.dtype).toBe('float32');
    expect(m.warnings).toEqual([]);
    expect(meta.test_accuracy).toBeGreaterThanOrEqual(0.975);
  });
  test('logits of the first 16 test images match PyTorch', async () => {
    const m = await loadMlp(bytesOf(DEFAULT_MODEL));
    const expected = (meta.reference.logits as number[][]).flat();
    expect(maxAbsDiff(forward64(m.layers, images, 16), expected)).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(await coreForward(m.layers, images, 16), expected)).toBeLessThanOrEqual(1e-4);
  });
});

describe('readPth details', () => {
  test('transposed views are materialized row-major: same values as the contiguous file', async () => {
    const a = await readPth(bytesOf(join(FIXTURES, 'good', 'zip_f32.pth')));
    const b = await readPth(bytesOf(join(FIXTURES, 'good', 'layout_transposed.pth')));
    a.tensors.forEach((t, i) => expect(b.tensors[i].data).toEqual(t.data));
  });
  test('every format variant of the same model gives bit-identical tensors', async () => {
    const ref = await readPth(bytesOf(join(FIXTURES, 'good', 'zip_f32.pth')));
    for (const f of [
      'zip_root_stem',
      'zip_root_odd',
      'zip_rezip_stored',
      'zip_rezip_deflated',
      'zip_zero_local',
      'zip_zero_local_deflated',
      'zip64',
      'zip_byteorder_little',
      'zip_byteorder_big',
      'legacy',
      'zip_protocol4',
      'zip_protocol5',
      'legacy_protocol1',
      'layout_shared_storage',
      'layout_offset_stride',
      'legacy_shared_storage',
      'layout_parameters',
    ]) {
      const other = await readPth(bytesOf(join(FIXTURES, 'good', `${f}.pth`)));
      expect(other.tensors.length, f).toBe(ref.tensors.length);
      other.tensors.forEach((t, i) => expect(t.data, `${f} ${t.name}`).toEqual(ref.tensors[i].data));
    }
  });
  test('bytes at an unaligned offset (a Node Buffer slice) read the same as aligned ones', async () => {
    for (const f of ['zip_f32', 'legacy', 'dtype_float64', 'dtype_float16', 'zip_byteorder_big']) {
      const bytes = bytesOf(join(FIXTURES, 'good', `${f}.pth`));
      const shifted = new Uint8Array(bytes.length + 3);
      shifted.set(bytes, 3);
      const a = await readPth(bytes),
        b = await readPth(shifted.subarray(3));
      b.tensors.forEach((t, i) => expect(t.data, f).toEqual(a.tensors[i].data));
    }
  });
  test('src/ (outside the Node-only data helpers) imports nothing from node:, so it runs in browsers', () => {
    const dir = join(HERE, '..', 'src');
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      expect(readFileSync(join(dir, f), 'utf8'), f).not.toMatch(/from ['"]node:|require\(/);
    }
  });
  test('checkpoints: the state_dict is found and the rest listed as ignored', async () => {
    const f = await readPth(bytesOf(join(FIXTURES, 'good', 'ckpt_model_state_dict.pth')));
    expect(f.key).toBe('model_state_dict');
    expect(f.ignored.sort()).toEqual(['best_acc', 'epoch', 'loss', 'note', 'optimizer_state_dict']);
  });
  test('__proto__ and constructor keys are plain names and pollute nothing', async () => {
    const m = await loadMlp(bytesOf(join(FIXTURES, 'good', 'layout_proto_keys.pth')));
    expect(m.layers.map((l) => l.name)).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(m.layers[0])).toBe(Object.prototype);
  });
  test('NaN and Infinity are reported as one warning naming the tensor', async () => {
    const m = await loadMlp(bytesOf(join(FIXTURES, 'good', 'warn_nan_inf.pth')));
    expect(m.warnings).toEqual([
      'fc2.weight holds 1 NaN and 1 infinite values of 160: predictions will be NaN or meaningless',
    ]);
  });
  test('toMlp of a missing bias uses zeros and warns', async () => {
    const m = toMlp(await readPth(bytesOf(join(FIXTURES, 'good', 'layout_no_bias.pth'))));
    expect(m.layers[1].bias).toEqual(new Float32Array(10));
    expect(m.warnings).toEqual(['layer fc2 has no bias: using zeros']);
  });
});
