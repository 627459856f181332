// `inspect --probe` (issue 12 item 4): a state_dict records neither activation nor normalization, so the probe runs
// the model under every reading on the first 1,000 test images and ranks them; the PyTorch fixtures of
// packages/loader/fixtures/architectures.json say which reading each was trained with.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ACTIVATION_NAMES } from '@mnist/core-wasm';
import { savePth } from '@mnist/loader';
import { describe, expect, it } from 'vitest';
import { LOADER_FIXTURES, mnistAsync, tempDir } from './helpers.js';

const modelPath = (name: string) => path.join(LOADER_FIXTURES, 'architectures', name);
const MNIST = { mean: 0.1307, std: 0.3081 };

interface ProbeRow {
  activation: string | null;
  normalize: { mean: number; std: number } | null;
  accuracy: number;
  correct: number;
}

async function probeJson(args: string[]) {
  const run = await mnistAsync(['inspect', ...args, '--probe', '--json'], { timeout: 300_000 });
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as {
    probe: ProbeRow[];
    probeRun: { data: string; images: number; activations: boolean; current: number | null };
  };
}

describe('inspect --probe', () => {
  it('tanh_trained.pth: tanh without normalization ranks first; the JSON shape', async () => {
    const doc = await probeJson([modelPath('tanh_trained.pth')]);
    expect(doc.probe[0]).toMatchObject({ activation: 'tanh', normalize: null });
    // Every activation x {none, mnist}, once each.
    expect(doc.probe).toHaveLength(ACTIVATION_NAMES.length * 2);
    const readings = doc.probe.map((r) => `${r.activation}/${r.normalize ? 'mnist' : 'none'}`);
    expect(new Set(readings)).toEqual(new Set(ACTIVATION_NAMES.flatMap((a) => [`${a}/none`, `${a}/mnist`])));
    for (const row of doc.probe) {
      expect(Object.keys(row).sort()).toEqual(['accuracy', 'activation', 'correct', 'normalize']);
      expect(row.normalize === null || (row.normalize.mean === MNIST.mean && row.normalize.std === MNIST.std)).toBe(
        true,
      );
      expect(row.accuracy).toBe(row.correct / 1000);
    }
    // Best first; ties in the documented order (ACTIVATION_NAMES order, none before mnist).
    const order = (r: ProbeRow) =>
      ACTIVATION_NAMES.indexOf(r.activation as (typeof ACTIVATION_NAMES)[number]) * 2 + (r.normalize ? 1 : 0);
    for (let i = 1; i < doc.probe.length; i++) {
      const [a, b] = [doc.probe[i - 1]!, doc.probe[i]!];
      expect(a.correct > b.correct || (a.correct === b.correct && order(a) < order(b))).toBe(true);
    }
    expect(doc.probeRun).toMatchObject({ images: 1000, activations: true });
    // The assumed reading (relu, none) is the marked row.
    expect(doc.probe[doc.probeRun.current!]).toMatchObject({ activation: 'relu', normalize: null });
  });

  it('normalized_trained.pth: relu with the MNIST normalization ranks first, marked when said', async () => {
    const doc = await probeJson([modelPath('normalized_trained.pth'), '--normalize', 'mnist', '--activation', 'relu']);
    expect(doc.probe[0]).toMatchObject({ activation: 'relu', normalize: MNIST });
    expect(doc.probeRun.current).toBe(0);
  });

  it('the text table: best first, the reading in use marked, the options to say it', async () => {
    const file = modelPath('tanh_trained.pth');
    const run = await mnistAsync(['inspect', file, '--probe'], { timeout: 300_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^probe {5}activation x normalization on the first 1,000 images of .*, best first$/m);
    expect(run.stdout).toMatch(
      /^ {2}activation +normalization +accuracy +correct\n {2}tanh +none +\d+\.\d\d% +\d+\/1,000$/m,
    );
    expect(run.stdout).toMatch(/^ {2}relu +none +\d+\.\d\d% +\d+\/1,000 +<- assumed$/m);
    expect(run.stdout).toContain(
      `try it: node dist/mnist.js predict --model ${file} --activation tanh --normalize none`,
    );
  });

  it('a model with no hidden layer probes only the normalization', async () => {
    const file = path.join(tempDir(), 'linear.pth');
    const weight = new Float32Array(784 * 10).map((_, i) => Math.sin(i) * 0.01);
    writeFileSync(file, savePth({ layers: [{ name: 'fc', in: 784, out: 10, weight, bias: new Float32Array(10) }] }));
    const doc = await probeJson([file]);
    expect(doc.probe).toHaveLength(2);
    expect(doc.probe.every((r) => r.activation === null)).toBe(true);
    expect(doc.probeRun.activations).toBe(false);
    const run = await mnistAsync(['inspect', file, '--probe'], { timeout: 300_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('no hidden layer, so no activation to probe: only the normalization');
  });
});

describe('predict names the probe when assumed settings score low', () => {
  it('tanh_trained.pth without options: the hint gives a command that works from here', async () => {
    const file = modelPath('tanh_trained.pth');
    const run = await mnistAsync(['predict', '--model', file, '--examples', '0'], { timeout: 300_000 });
    expect(run.code, run.stderr).toBe(0);
    const hint = run.stdout.split('\n').find((l) => l.startsWith('hint: '));
    expect(hint).toBe(
      `hint: 89.23% is low for an MNIST model: it may have been trained with another activation or normalization; try --activation (e.g. tanh, sigmoid, gelu) and --normalize mnist, or see which reading fits best: node dist/mnist.js inspect ${file} --probe`,
    );
    // The hinted command runs (helpers start the CLI as `node dist/mnist.js` from apps/cli) and finds tanh.
    const [, ...args] = hint!.split(': node ').pop()!.split(' ');
    const probe = await mnistAsync([...args, '--json'], { timeout: 300_000 });
    expect(probe.code, probe.stderr).toBe(0);
    expect(JSON.parse(probe.stdout).probe[0]).toMatchObject({ activation: 'tanh', normalize: null });
  });
});
