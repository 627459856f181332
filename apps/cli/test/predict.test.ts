// predict on the MNIST test set: the embedded default model against PyTorch's recorded logits and accuracy,
// the report's numbers against an independent recount, data from folders (plain and .gz), loader fixtures.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_JSON, LOADER_FIXTURES, MNIST_DIR, mnist, tempDir } from './helpers.js';

const testLabels = readFileSync(path.join(MNIST_DIR, 't10k-labels-idx1-ubyte')).subarray(8);

interface Prediction {
  index: number;
  label: number;
  prediction: number;
  probabilities: number[];
  logits: number[];
}

function maxAbsDiff(a: number[][], b: number[][]): number {
  let m = 0;
  a.forEach((row, i) => row.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i]![j]!)))));
  return m;
}

describe('predict --json with the embedded default model', () => {
  const run = mnist(['predict', '--json']);
  const doc = JSON.parse(run.stdout);

  it('prints exactly one JSON document on stdout and nothing on stderr', () => {
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(doc.model.layers).toEqual([
      [784, 512],
      [512, 10],
    ]);
    expect(doc.model.parameters).toBe(407_050);
    expect(doc.count).toBe(10_000);
    expect(doc.predictions).toHaveLength(10_000);
  });

  it("matches PyTorch's logits and probabilities for the first 16 test images (max abs diff <= 1e-4)", () => {
    const ref = DEFAULT_MODEL_JSON.reference;
    const ours: Prediction[] = doc.predictions.slice(0, ref.logits.length);
    const logitDiff = maxAbsDiff(
      ours.map((p) => p.logits),
      ref.logits,
    );
    const probDiff = maxAbsDiff(
      ours.map((p) => p.probabilities),
      ref.probabilities,
    );
    console.log(
      `default model vs PyTorch: maxdiff logits ${logitDiff.toExponential(2)}, probabilities ${probDiff.toExponential(2)}`,
    );
    expect(logitDiff).toBeLessThanOrEqual(1e-4);
    expect(probDiff).toBeLessThanOrEqual(1e-5);
    expect(ours.map((p) => p.prediction)).toEqual(ref.predictions);
    expect(ours.map((p) => p.label)).toEqual(ref.labels);
  });

  it("reaches PyTorch's test accuracy exactly (same 9,784 of 10,000)", () => {
    expect(Math.round(doc.accuracy * doc.count)).toBe(DEFAULT_MODEL_JSON.test_correct);
    expect(doc.accuracy).toBeCloseTo(DEFAULT_MODEL_JSON.test_accuracy, 6);
  });

  it('reports a confusion matrix, precision, recall and mistakes consistent with the predictions', () => {
    const preds: Prediction[] = doc.predictions;
    const confusion = Array.from({ length: 10 }, () => new Array(10).fill(0));
    preds.forEach((p, i) => {
      expect(p.index).toBe(i);
      expect(p.label).toBe(testLabels[i]);
      expect(p.prediction).toBe(p.logits.indexOf(Math.max(...p.logits)));
      expect(p.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      confusion[p.label]![p.prediction]++;
    });
    expect(doc.confusion).toEqual(confusion);
    for (let c = 0; c < 10; c++) {
      const column = confusion.reduce((s, row) => s + row[c], 0);
      const row = confusion[c]!.reduce((s: number, v: number) => s + v, 0);
      expect(doc.precision[c]).toBeCloseTo(confusion[c]![c] / column, 12);
      expect(doc.recall[c]).toBeCloseTo(confusion[c]![c] / row, 12);
    }
    expect(doc.mistakes).toEqual(preds.filter((p) => p.prediction !== p.label).map((p) => p.index));
    expect(doc.mistakes).toHaveLength(10_000 - DEFAULT_MODEL_JSON.test_correct);
    expect(doc.imagesPerSecond).toBeGreaterThan(0);
  });
});

describe('predict (human report)', () => {
  it('prints accuracy, the confusion matrix, per-class table, throughput, drawn digits and how to find mistakes', () => {
    const run = mnist(['predict', '--limit', '500']);
    expect(run.code).toBe(0);
    const json = JSON.parse(mnist(['predict', '--limit', '500', '--json']).stdout);
    const out = run.stdout;
    expect(out).toContain(
      `accuracy  ${(json.accuracy * 100).toFixed(2)}% (${Math.round(json.accuracy * 500)} of 500 correct)`,
    );
    expect(out).toMatch(/batch 256: [\d.]+ s, [\d,]+ images\/s/);
    expect(out).toContain('confusion matrix (rows: true digit, columns: predicted digit)');
    // Row "7" of the printed matrix equals the JSON confusion row (zeros shown as '.').
    const row7 = out.split('\n').find((l) => /^ {2}7 {5,}/.test(l))!;
    expect(
      row7
        .trim()
        .split(/\s+/)
        .slice(1)
        .map((v) => (v === '.' ? 0 : Number(v))),
    ).toEqual(json.confusion[7]);
    expect(out).toMatch(/digit\s+precision\s+recall\s+images/);
    expect(out).toContain('#0  true 7 → 7 ✓');
    expect(out).toMatch(/[▀▄█]{5}/);
    expect(out).toContain(`misclassified: ${json.mistakes.length} of 500`);
    expect(out).toContain(`draw some: node dist/mnist.js predict --index ${json.mistakes.slice(0, 3).join(',')}`);
    expect(out).not.toContain('\x1b['); // not a TTY: plain half blocks, no ANSI colours
  });

  it('--errors lists every misclassified image; --index draws chosen ones with top-3 probabilities', () => {
    const json = JSON.parse(mnist(['predict', '--json']).stdout);
    const errors = mnist(['predict', '--errors', '--examples', '0']);
    expect(errors.code).toBe(0);
    const listed = [...errors.stdout.matchAll(/(\d+): (\d) → (\d)/g)].map((m) => Number(m[1]));
    expect(listed).toEqual(json.mistakes);
    const first = json.predictions[json.mistakes[0]];
    const index = mnist(['predict', '--index', `${first.index},0`]);
    expect(index.code).toBe(0);
    expect(index.stdout).toContain(`#${first.index}  true ${first.label} → ${first.prediction} ✗`);
    const top = first.probabilities
      .map((p: number, c: number) => [p, c])
      .sort((a: number[], b: number[]) => b[0]! - a[0]!)[0];
    expect(index.stdout).toContain(` ${top[1]} `);
    expect(index.stdout).toContain(`${(top[0] * 100).toFixed(1)}%`);
    expect(index.stdout).toContain('2 images (--index');
  });

  it('colours digits with ANSI grey levels when the terminal wants colour', () => {
    const run = mnist(['predict', '--index', '0'], { env: { FORCE_COLOR: '1' } });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\x1b\[38;5;2\d\dm/);
  });
});

describe('predict on other data and models', () => {
  it('reads a --data folder of gzipped IDX files, and --images/--labels, with the same result', () => {
    const dir = tempDir();
    for (const name of ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
      writeFileSync(path.join(dir, `${name}.gz`), gzipSync(readFileSync(path.join(MNIST_DIR, name)), { level: 1 }));
    }
    const gz = JSON.parse(mnist(['predict', '--json', '--data', dir, '--limit', '2000']).stdout);
    const plain = JSON.parse(
      mnist([
        'predict',
        '--json',
        '--images',
        path.join(MNIST_DIR, 't10k-images-idx3-ubyte'),
        '--labels',
        path.join(MNIST_DIR, 't10k-labels-idx1-ubyte'),
        '--limit',
        '2000',
      ]).stdout,
    );
    const bundled = JSON.parse(mnist(['predict', '--json', '--limit', '2000']).stdout);
    expect(gz.count).toBe(2000);
    expect(gz.predictions).toEqual(bundled.predictions);
    expect(plain.predictions).toEqual(bundled.predictions);
  });

  it("runs the loader's PyTorch fixtures (zip, legacy, float16, deeper chains) to PyTorch's logits", () => {
    const good = JSON.parse(readFileSync(path.join(LOADER_FIXTURES, 'good.json'), 'utf8'));
    for (const file of [
      'zip_f32.pth',
      'legacy.pth',
      'dtype_float16.pth',
      'layout_nested_4layer.pth',
      'ckpt_model_state_dict.pth',
    ]) {
      const fixture = good.fixtures.find((f: { file: string }) => f.file === file);
      const run = mnist([
        'predict',
        '--json',
        '--model',
        path.join(LOADER_FIXTURES, 'good', file),
        '--limit',
        String(fixture.logits.length),
      ]);
      expect(run.code, run.stderr).toBe(0);
      const doc = JSON.parse(run.stdout);
      expect(doc.model.layers).toEqual(fixture.layers);
      expect(
        maxAbsDiff(
          doc.predictions.map((p: Prediction) => p.logits),
          fixture.logits,
        ),
      ).toBeLessThanOrEqual(1e-4);
    }
  });

  it('shows loader warnings on stderr and keeps stdout a JSON document', () => {
    const run = mnist([
      'predict',
      '--json',
      '--limit',
      '10',
      '--model',
      path.join(LOADER_FIXTURES, 'good', 'warn_nan_inf.pth'),
    ]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^warning: .*warn_nan_inf\.pth: /m);
    expect(JSON.parse(run.stdout).model.warnings.length).toBeGreaterThan(0);
  });
});

describe('predict --threads', () => {
  it('gives the same logits, bit for bit, on 1 and 2 threads, and says which it used', () => {
    const one = mnist(['predict', '--json', '--limit', '600', '--threads', '1']);
    const two = mnist(['predict', '--json', '--limit', '600', '--threads', '2']);
    expect(one.code).toBe(0);
    expect(two.code).toBe(0);
    const a = JSON.parse(one.stdout),
      b = JSON.parse(two.stdout);
    expect(a.model.threads).toBe(1);
    expect(b.model.threads).toBe(2);
    expect(b.predictions.map((p: Prediction) => p.logits)).toEqual(a.predictions.map((p: Prediction) => p.logits));
  });
});

describe('predict --int8', () => {
  it('runs the default model in int8 within 0.1 point of float32 on the 10,000 test images, and says so', () => {
    const f32 = JSON.parse(mnist(['predict', '--json']).stdout);
    const run = mnist(['predict', '--json', '--int8']);
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc.model.precision).toBe('int8');
    expect(f32.model.precision).toBe('float32');
    expect(Math.abs(doc.accuracy - f32.accuracy)).toBeLessThanOrEqual(0.001);
    const text = mnist(['predict', '--int8', '--limit', '100']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/@mnist\/core-wasm \([a-z-]+, int8, \d+ threads?\)/);
  });
});
