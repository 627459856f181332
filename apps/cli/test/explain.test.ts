// explain: one figure per input (test images #149, #151, #247, which the default model gets wrong, and a picture),
// each a standalone SVG (or a PNG that decodes); the --json numbers are the core API's (@mnist/core-wasm's saliency,
// hiddenContributions and pgd on the same weights, bit for bit); bad usage exits 2 with one line.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Mlp, hiddenContributions, pgd, saliency } from '@mnist/core-wasm';
import { loadMlp } from '@mnist/loader';
import pngjs from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL, FIXTURES, MNIST_DIR, mnist, oneLineError, tempDir } from './helpers.js';

const DIGITS = [149, 151, 247];
// the plain SIMD build in both processes: the same bits (relaxed SIMD's fused multiply-add rounds differently)
const PLAIN = { env: { MNIST_SIMD: 'plain' } };

/** Test image `index` as pixels x / 255, read from the IDX file directly. */
function testImage(index: number): Float32Array {
  const bytes = readFileSync(path.join(MNIST_DIR, 't10k-images-idx3-ubyte'));
  return Float32Array.from(bytes.subarray(16 + index * 784, 16 + (index + 1) * 784), (b) => b / 255);
}

function expectSvg(file: string): string {
  const svg = readFileSync(file, 'utf8');
  expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  expect(svg.replace(/data:image\/png;base64,[A-Za-z0-9+/=]+/g, '').includes('NaN'), file).toBe(false);
  return svg;
}

interface Json {
  method: string;
  score: string;
  target: number | 'predicted';
  attack: { method: string; eps: number; steps: number; stepSize: number } | null;
  explanations: {
    index: number;
    label: number;
    figure: string;
    prediction: number;
    probabilities: number[];
    target: number;
    attribution: number[];
    units: { unit: number; activation: number; weight: number; contribution: number }[];
    counterfactual?: {
      image: number[];
      probabilities: number[];
      predicted: number;
      linf: number;
      original: number;
      target: number | null;
      reached: boolean;
      steps: number;
    };
  }[];
}

describe('explain', () => {
  let net: Mlp;
  beforeAll(async () => {
    const model = await loadMlp(new Uint8Array(readFileSync(DEFAULT_MODEL)));
    net = await Mlp.fromLayers(model.layers, { simd: 'plain' });
    return () => net.dispose();
  });

  it('writes one SVG per test image, and --json gives the core API numbers (saliency, units, PGD)', () => {
    const out = path.join(tempDir(), 'figures');
    const run = mnist(['explain', '--index', '149', '--index', '151,247', '--attack', '--out', out, '--json'], PLAIN);
    expect(run.code, run.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(DIGITS.map((i) => `explain-${i}.svg`));
    const report = JSON.parse(run.stdout) as Json;
    expect(report).toMatchObject({ method: 'saliency', score: 'logit', target: 'predicted' });
    expect(report.attack).toEqual({ method: 'pgd', eps: 0.1, steps: 20, stepSize: 0.0125 });
    const pixels = new Float32Array(DIGITS.length * 784);
    DIGITS.forEach((index, b) => pixels.set(testImage(index), b * 784));
    const expected = saliency(net, pixels, 'predicted');
    const probabilities = net.probabilities(pixels, DIGITS.length);
    const attacks = pgd(net, pixels, { eps: 0.1 });
    report.explanations.forEach((e, b) => {
      expect(e.index).toBe(DIGITS[b]);
      expect(e.figure).toBe(path.join(out, `explain-${DIGITS[b]}.svg`));
      // the default model's mistakes: 2 -> 4, 9 -> 8, 4 -> 2
      expect([e.label, e.prediction]).toEqual(
        [
          [2, 4],
          [9, 8],
          [4, 2],
        ][b],
      );
      expect(e.target).toBe(e.prediction);
      expect(e.attribution).toEqual(Array.from(expected.attribution.subarray(b * 784, (b + 1) * 784)));
      expect(e.probabilities).toEqual(Array.from(probabilities.subarray(b * 10, (b + 1) * 10)));
      expect(e.units).toEqual(hiddenContributions(net, pixels.slice(b * 784, (b + 1) * 784), e.target, { top: 8 }));
      const c = e.counterfactual!;
      expect(c.image).toEqual(Array.from(attacks[b].image));
      expect(c.probabilities).toEqual(Array.from(attacks[b].probabilities));
      expect(c).toMatchObject({ predicted: attacks[b].predicted, linf: attacks[b].linf, original: e.prediction });
      expect(c.reached).toBe(true);
      expect(c.predicted).not.toBe(e.prediction);
      expect(c.linf).toBeLessThanOrEqual(0.1 + 3e-8);
      const svg = expectSvg(e.figure);
      // the figure states its numbers: title, the counterfactual's class, the units' names
      expect(svg).toContain(`test image #${e.index} (true ${e.label}): predicted ${e.prediction}`);
      expect(svg).toContain(`counterfactual: predicted ${c.predicted}`);
      expect(svg).toContain(`#${e.units[0].unit}`);
    });
  });

  it('explains a picture with --method integrated --target 3, as PNG, and lists the files', () => {
    const out = tempDir();
    const file = path.join(FIXTURES, 'mnist-18-digit-3.png');
    const run = mnist([
      'explain',
      '--image',
      file,
      '--method',
      'integrated',
      '--target',
      '3',
      '--format',
      'png',
      '--out',
      out,
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(readdirSync(out)).toEqual(['explain-mnist-18-digit-3.png']);
    const png = pngjs.PNG.sync.read(readFileSync(path.join(out, 'explain-mnist-18-digit-3.png')));
    expect(png.width).toBeGreaterThan(500);
    expect(png.height).toBeGreaterThan(400);
    expect(run.stdout).toContain('integrated gradients of the logit of class 3');
    expect(run.stdout).toMatch(/mnist-18-digit-3\.png: predicted 3 \(\d+\.\d%\), explained 3/);
    expect(run.stdout).toMatch(/wrote 1 PNG figure to .*\n {2}.*explain-mnist-18-digit-3\.png +\d/);
  });

  it('refuses bad usage with exit code 2 and one line', () => {
    const out = tempDir();
    const cases: [string[], RegExp][] = [
      [[], /nothing to explain: pass --index I .* or --image FILE/],
      [['--index', '149', '--target', '10'], /invalid --target: 10 is not a class of this model \(0\.\.9\)/],
      [
        ['--index', '149', '--target', 'best'],
        /invalid --target: "best" \(expected a class number like 3, or predicted\)/,
      ],
      [['--index', '149', '--eps', '0.1'], /--eps is the budget of --attack: pass --attack too/],
      [['--index', '149', '--attack', '--eps', '2'], /invalid --eps: "2" \(expected a number > 0 and <= 1/],
      [['--index', '10000'], /invalid --index: 10000 is out of range; the test set has 10,000 images/],
      [
        ['--index', '149', '--method', 'lrp'],
        /invalid --method: "lrp" \(expected one of saliency, gradxinput, smoothgrad, integrated\)/,
      ],
    ];
    for (const [args, message] of cases) {
      const run = mnist(['explain', ...args, '--out', out]);
      expect(run.code, args.join(' ')).toBe(2);
      expect(oneLineError(run)).toMatch(message);
      expect(run.stdout).toBe('');
    }
    expect(readdirSync(out)).toEqual([]);
  });
});
