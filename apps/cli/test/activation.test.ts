// --activation and --normalize (issue 12, "never a silent guess"): a state_dict records neither, so the CLI takes
// them as options and every output says what it used and whence. Checked against the PyTorch fixtures of
// packages/loader/fixtures/architectures.json: exact test-set counts and the reference logits.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, LOADER_FIXTURES, mnistAsync, oneLineError, tempDir, type Run } from './helpers.js';

interface Fixture {
  file: string;
  expect: {
    activations: string[] | null;
    negative_slope?: number;
    normalize: [number, number] | null;
    options?: { activation?: string; negative_slope?: number; normalize?: [number, number] };
  };
  reference?: { input: string; logits: { shape: [number, number]; base64: string }; predictions: number[] };
  accuracy?: {
    test_images: number;
    correct: number;
    wrong_reading: { as_relu?: number; without_normalize?: number };
  };
}

const MANIFEST = JSON.parse(readFileSync(path.join(LOADER_FIXTURES, 'architectures.json'), 'utf8'));
const FILES: Fixture[] = MANIFEST.files;
const fixture = (name: string) => FILES.find((f) => f.file === name)!;
const modelPath = (name: string) => path.join(LOADER_FIXTURES, 'architectures', name);

/** The manifest's logits: little-endian float32, row-major [16, 10]. */
function referenceLogits(f: Fixture): number[][] {
  const { base64, shape } = f.reference!.logits;
  const bytes = Buffer.from(base64, 'base64');
  const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  return Array.from({ length: shape[0] }, (_, r) => Array.from(values.subarray(r * shape[1], (r + 1) * shape[1])));
}

/** The --activation text of the manifest's expect.activations: `leaky_relu:0.1` where a slope is recorded. */
function activationOption(f: Fixture): string {
  return f.expect.activations!.map((a) => (a === 'leaky_relu' ? `${a}:${f.expect.negative_slope}` : a)).join(',');
}

function correctCount(doc: { count: number; mistakes: number[] }): number {
  return doc.count - doc.mistakes.length;
}

/** The parts of `predict --json` these tests read. */
interface PredictDoc {
  count: number;
  accuracy: number;
  mistakes: number[];
  model: { activations: unknown[]; normalize: unknown; settingsSource: unknown };
  predictions: Array<{ prediction: number; logits: number[] }>;
}

async function predictJson(args: string[]): Promise<{ run: Run; doc: PredictDoc }> {
  const run = await mnistAsync(['predict', '--json', ...args], { timeout: 300_000 });
  expect(run.code, run.stderr).toBe(0);
  return { run, doc: JSON.parse(run.stdout) };
}

const ASSUMED_BOTH =
  'assumed: ReLU between layers and no input normalization (a state_dict does not record them; say --activation and --normalize if the model was trained otherwise)';

describe('tanh_trained.pth: a state_dict of a 784-64-10 Tanh MLP', () => {
  const f = fixture('tanh_trained.pth');

  it("--activation tanh gives PyTorch's exact count on the 10,000 test images", async () => {
    const { run, doc } = await predictJson(['--model', modelPath(f.file), '--activation', 'tanh']);
    expect(doc.count).toBe(f.accuracy!.test_images);
    expect(correctCount(doc)).toBe(f.accuracy!.correct);
    expect(f.accuracy!.correct).toBe(9229);
    expect(doc.model.activations).toEqual(['tanh']);
    expect(doc.model.normalize).toBeNull();
    expect(doc.model.settingsSource).toEqual({ activation: 'option', normalize: 'assumed' });
    // Only the normalization is assumed; stdout stays one JSON document, the note goes to stderr.
    expect(run.stderr.trim()).toMatch(/^assumed: no input normalization \(.*--normalize.*\)$/);
  });

  it('without --activation it runs ReLU (the manifest\'s "as ReLU" count), says so in one line, and hints', async () => {
    const { run, doc } = await predictJson(['--model', modelPath(f.file)]);
    expect(correctCount(doc)).toBe(f.accuracy!.wrong_reading.as_relu);
    expect(doc.model.activations).toEqual(['relu']);
    expect(doc.model.normalize).toBeNull();
    expect(doc.model.settingsSource).toEqual({ activation: 'assumed', normalize: 'assumed' });
    const lines = run.stderr.trim().split('\n');
    expect(lines[0]).toBe(ASSUMED_BOTH);
    // 89.23% with assumed settings: a hint naming the options.
    expect(lines[1]).toMatch(/^hint: 89\.23% .*--activation.*--normalize/);
    expect(lines).toHaveLength(2);
  });

  it('the terminal header states the settings and the assumption', async () => {
    const run = await mnistAsync(['predict', '--model', modelPath(f.file), '--examples', '0'], { timeout: 300_000 });
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/^model {5}.*tanh_trained\.pth: 784-64-10 MLP/);
    expect(lines[1]).toBe('settings  activation relu (assumed), normalization none (assumed)');
    expect(lines[2]).toBe(ASSUMED_BOTH);
    expect(run.stdout).toMatch(
      /^accuracy {2}89\.23% \(8,923 of 10,000 correct\).*\nhint: .*--activation.*--normalize/m,
    );
    expect(run.stderr).toBe('');

    const said = await mnistAsync(
      ['predict', '--model', modelPath(f.file), '--activation', 'tanh', '--normalize', 'none', '--examples', '0'],
      { timeout: 300_000 },
    );
    expect(said.code, said.stderr).toBe(0);
    expect(said.stdout.split('\n')[1]).toBe(
      'settings  activation tanh (--activation), normalization none (--normalize)',
    );
    expect(said.stdout).not.toMatch(/^assumed:|^hint:/m);
    expect(said.stdout).toMatch(/^accuracy {2}92\.29% \(9,229 of 10,000 correct\)/m);
  });
});

describe('normalized_trained.pth: a state_dict trained on (x/255 - 0.1307)/0.3081', () => {
  const f = fixture('normalized_trained.pth');

  it("--normalize mnist gives PyTorch's exact count", async () => {
    const { run, doc } = await predictJson(['--model', modelPath(f.file), '--normalize', 'mnist']);
    expect(correctCount(doc)).toBe(f.accuracy!.correct);
    expect(f.accuracy!.correct).toBe(9523);
    expect(doc.model.activations).toEqual(['relu']);
    expect(doc.model.normalize).toEqual({ mean: 0.1307, std: 0.3081 });
    expect(doc.model.settingsSource).toEqual({ activation: 'assumed', normalize: 'option' });
    expect(run.stderr.trim()).toMatch(/^assumed: ReLU between layers \(.*--activation.*\)$/);
  });

  it('--normalize 0.1307,0.3081 is the same as mnist; --activation relu leaves nothing assumed', async () => {
    const { run, doc } = await predictJson([
      '--model',
      modelPath(f.file),
      '--normalize',
      '0.1307,0.3081',
      '--activation',
      'relu',
    ]);
    expect(correctCount(doc)).toBe(f.accuracy!.correct);
    expect(doc.model.settingsSource).toEqual({ activation: 'option', normalize: 'option' });
    expect(run.stderr).toBe('');
  });

  it('without --normalize it gives the manifest\'s "without normalization" count', async () => {
    const { run, doc } = await predictJson(['--model', modelPath(f.file)]);
    expect(correctCount(doc)).toBe(f.accuracy!.wrong_reading.without_normalize);
    expect(doc.model.normalize).toBeNull();
    expect(run.stderr.split('\n')[0]).toBe(ASSUMED_BOTH);
    // 93.39% is not low: no hint.
    expect(run.stderr).not.toMatch(/^hint:/m);
  });

  it('--image pictures are normalized after preprocessing', async () => {
    const pictures = ['mnist-0-digit-7.png', 'mnist-1-digit-2.png', 'mnist-4-digit-4.png', 'mnist-7-digit-9.png'];
    const files = pictures.map((p) => path.join(FIXTURES, p));
    const run = (normalize: string) =>
      predictJson(['--model', modelPath(f.file), '--normalize', normalize, '--image', ...files]);
    const [mnist, identity, none] = await Promise.all([run('mnist'), run('0,1'), run('none')]);
    expect(mnist.doc.model.normalize).toEqual({ mean: 0.1307, std: 0.3081 });
    expect(mnist.doc.predictions.map((p) => p.prediction)).toEqual([7, 2, 4, 9]);
    // (x - 0)/1 is x, bit for bit; the MNIST normalization changes every logit.
    expect(identity.doc.predictions.map((p) => p.logits)).toEqual(none.doc.predictions.map((p) => p.logits));
    const a = mnist.doc.predictions[0]!.logits,
      b = none.doc.predictions[0]!.logits;
    expect(a.every((v, i) => v !== b[i])).toBe(true);
  });
});

describe("state_dicts of other activations: logits of the first 16 test images against PyTorch's", () => {
  const cases = ['sd_tanh.pth', 'sd_sigmoid.pth', 'sd_gelu.pth', 'sd_leaky_relu_0.1.pth', 'sd_normalized.pth'];
  it.each(cases)('%s', async (name) => {
    const f = fixture(name);
    const args = ['--model', modelPath(name), '--limit', '16', '--activation', activationOption(f)];
    if (f.expect.normalize) args.push('--normalize', f.expect.normalize.join(','));
    const { doc } = await predictJson(args);
    const ref = referenceLogits(f);
    const ours: number[][] = doc.predictions.map((p) => p.logits);
    expect(ours).toHaveLength(16);
    // Relative to the row's largest logit: the scale at which float32 sums round (a logit near 0 is a
    // cancellation, e.g. 1.98e-4 from terms of size ~1, and agrees only to that scale).
    let maxRel = 0;
    ours.forEach((row, r) => {
      const scale = Math.max(...ref[r]!.map(Math.abs));
      row.forEach((v, c) => (maxRel = Math.max(maxRel, Math.abs(v - ref[r]![c]!) / scale)));
    });
    console.log(`${name} --activation ${activationOption(f)}: maxdiff (relative) ${maxRel.toExponential(2)}`);
    expect(maxRel).toBeLessThanOrEqual(1e-4);
    expect(doc.predictions.map((p) => p.prediction)).toEqual(f.reference!.predictions);
    const expected = f.expect.activations!.map((a) =>
      a === 'leaky_relu' ? { name: a, slope: f.expect.negative_slope } : a,
    );
    expect(doc.model.activations).toEqual(expected);
  });

  it('sd_leaky_relu_0.1.pth with the default slope (0.01) is not the same network', async () => {
    const f = fixture('sd_leaky_relu_0.1.pth');
    const { doc } = await predictJson(['--model', modelPath(f.file), '--limit', '16', '--activation', 'leaky_relu']);
    expect(doc.model.activations).toEqual([{ name: 'leaky_relu', slope: 0.01 }]);
    const ref = referenceLogits(f);
    const diff = Math.max(...doc.predictions.flatMap((p, r) => p.logits.map((v, c) => Math.abs(v - ref[r]![c]!))));
    expect(diff).toBeGreaterThan(1e-3);
  });
});

describe('bad values exit 2 with one line', () => {
  const model = modelPath('tanh_trained.pth');
  const cases: Array<[string, string[], RegExp]> = [
    [
      'unknown name',
      ['--activation', 'swish'],
      /^mnist predict: invalid --activation: "swish" \(expected relu, leaky_relu, .*identity/,
    ],
    [
      'two for one hidden layer',
      ['--activation', 'tanh,relu'],
      /invalid --activation: "tanh,relu" \(expected one activation, or 1 \(one per hidden layer\) for .*tanh_trained\.pth, a 784-64-10 MLP\)$/,
    ],
    [
      'a parameter on tanh',
      ['--activation', 'tanh:0.2'],
      /invalid --activation: "tanh:0\.2" \(expected tanh without a parameter/,
    ],
    [
      'a slope that is not a number',
      ['--activation', 'leaky_relu:abc'],
      /invalid --activation: "leaky_relu:abc" \(expected leaky_relu:SLOPE with a number/,
    ],
    ['one number', ['--normalize', '0.1'], /invalid --normalize: "0\.1" \(expected MEAN,STD with STD > 0/],
    ['std 0', ['--normalize', '0.1,0'], /invalid --normalize: "0\.1,0" \(expected MEAN,STD with STD > 0/],
    ['a negative std', ['--normalize', '0.1,-1'], /invalid --normalize: "0\.1,-1"/],
    ['a word', ['--normalize', 'imagenet'], /invalid --normalize: "imagenet" \(.*mnist or none\)$/],
  ];
  it.each(cases)('%s', async (_, args, message) => {
    const run = await mnistAsync(['predict', '--model', model, '--limit', '10', ...args]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toBe('');
    expect(oneLineError(run)).toMatch(message);
  });
});

describe('the other commands state the settings too', () => {
  it('inspect: the MLP line and --json', async () => {
    const file = modelPath('sd_leaky_relu_0.1.pth');
    const text = await mnistAsync(['inspect', file]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      /^MLP {7}784 -> 32 -> 10: 2 Linear layers, activation relu \(assumed\), normalization none \(assumed\), /m,
    );
    expect(text.stdout).toContain(`          ${ASSUMED_BOTH}`);
    const said = await mnistAsync([
      'inspect',
      file,
      '--json',
      '--activation',
      'leaky_relu:0.1',
      '--normalize',
      'mnist',
    ]);
    expect(said.code, said.stderr).toBe(0);
    const doc = JSON.parse(said.stdout);
    expect(doc.mlp.activations).toEqual([{ name: 'leaky_relu', slope: 0.1 }]);
    expect(doc.mlp.normalize).toEqual({ mean: 0.1307, std: 0.3081 });
    expect(doc.mlp.settingsSource).toEqual({ activation: 'option', normalize: 'option' });
  });

  it('visualize: the summary', async () => {
    const out = path.join(tempDir(), 'figures');
    const run = await mnistAsync(
      ['visualize', '--model', modelPath('tanh_trained.pth'), '--activation', 'tanh', '--out', out],
      {
        timeout: 300_000,
      },
    );
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[1]).toBe('activation tanh (--activation), normalization none (assumed)');
    expect(lines[2]).toMatch(/^assumed: no input normalization /);
    // The confusion matrix figure reports the accuracy of the tanh network: PyTorch's 92.29%.
    expect(run.stdout).toMatch(/confusion-matrix\.svg .*accuracy 92\.29%/);
  });

  it('train: the first lines, and the options predict needs for the .pth it writes', async () => {
    const out = path.join(tempDir(), 'tanh.pth');
    const args = [
      '--epochs',
      '1',
      '--train-limit',
      '2000',
      '--hidden',
      '32,16',
      '--activation',
      'tanh,elu:0.5',
      '--normalize',
      'mnist',
    ];
    const run = await mnistAsync(['train', ...args, '--out', out], { timeout: 300_000 });
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/^training a 784-32-16-10 MLP /);
    expect(lines[1]).toBe(
      'activation tanh, elu:0.5 (--activation), normalization (x/255 - 0.1307)/0.3081 (--normalize)',
    );
    expect(run.stdout).toMatch(
      /^try it: .*predict --model .*tanh\.pth --activation tanh,elu:0\.5 --normalize 0\.1307,0\.3081$/m,
    );
    const epoch = /test accuracy (\d+\.\d\d)%/.exec(run.stdout)![1]!;
    // predict with the same options gives the same test accuracy as train's evaluation.
    const { doc } = await predictJson(['--model', out, '--activation', 'tanh,elu:0.5', '--normalize', 'mnist']);
    expect((doc.accuracy * 100).toFixed(2)).toBe(epoch);

    const plain = await mnistAsync(
      ['train', '--epochs', '1', '--train-limit', '500', '--out', path.join(tempDir(), 'relu.pth')],
      {
        timeout: 300_000,
      },
    );
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout.split('\n')[1]).toBe(
      'activation relu (default; --activation to change), normalization none (default; --normalize to change)',
    );
    expect(plain.stdout).toMatch(/^try it: .*predict --model \S*relu\.pth$/m);
  });
});

describe('activations read from the file: no option needed', () => {
  it("tanh_whole.pth (torch.save(model) of the trained Tanh Sequential) gives PyTorch's exact count with no option", async () => {
    const f = fixture('tanh_whole.pth');
    const { doc } = await predictJson(['--model', modelPath(f.file)]);
    expect(correctCount(doc)).toBe(f.accuracy!.correct);
    expect(doc.model.activations).toEqual(['tanh']);
    expect(doc.model.settingsSource).toEqual({ activation: 'file', normalize: 'assumed' });
  });

  it('a TorchScript archive (torch.jit.script of a Tanh Sequential) reads its activation from the code text', async () => {
    const { doc } = await predictJson(['--model', modelPath('ts_script_seq.pt'), '--limit', '16']);
    expect(doc.model.activations).toEqual(['tanh']);
    expect((doc.model.settingsSource as { activation: string }).activation).toBe('file');
  });
});
