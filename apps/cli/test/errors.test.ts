// Every bad input gives one line on stderr that says what is wrong and what to do, nothing on
// stdout, exit code 1 (bad input file) or 2 (bad usage), and no stack trace unless --verbose.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { savePth } from '@mnist/loader';
import { describe, expect, it } from 'vitest';
import { LOADER_FIXTURES, MNIST_DIR, mnist, mnistAsync, oneLineError, tempDir } from './helpers.js';

const dir = tempDir();
const images = path.join(MNIST_DIR, 't10k-images-idx3-ubyte');
const labels = path.join(MNIST_DIR, 't10k-labels-idx1-ubyte');

function layer(name: string, inputs: number, out: number) {
  return { name, in: inputs, out, weight: new Float32Array(inputs * out).fill(0.01), bias: new Float32Array(out) };
}
const wrongInputs = path.join(dir, 'inputs100.pth');
writeFileSync(wrongInputs, savePth({ layers: [layer('fc1', 100, 8), layer('fc2', 8, 10)] }));
const wrongClasses = path.join(dir, 'classes5.pth');
writeFileSync(wrongClasses, savePth({ layers: [layer('fc1', 784, 8), layer('fc2', 8, 5)] }));
const badMagic = path.join(dir, 'bad-magic-idx3-ubyte');
writeFileSync(badMagic, Buffer.concat([Buffer.from([0, 0, 8, 4]), readFileSync(images).subarray(4, 5000)]));
const truncated = path.join(dir, 'truncated-idx3-ubyte');
writeFileSync(truncated, readFileSync(images).subarray(0, 100_000));
const badGzip = path.join(dir, 'bad.gz');
writeFileSync(badGzip, gzipSync(readFileSync(labels)).subarray(0, 200));
const fewLabels = path.join(dir, 'few-labels-idx1-ubyte');
const labelBytes = Buffer.from(readFileSync(labels).subarray(0, 8 + 100));
labelBytes.writeUInt32BE(100, 4);
writeFileSync(fewLabels, labelBytes);
const existing = path.join(dir, 'existing.pth');
writeFileSync(existing, 'keep me');
const folder = path.join(dir, 'a-folder');
mkdirSync(folder);

type Case = [name: string, args: string[], code: number, message: RegExp];

const cases: Case[] = [
  // usage: exit 2
  [
    'unknown flag',
    ['predict', '--frobnicate'],
    2,
    /^mnist predict: unknown option --frobnicate \(see node dist\/mnist\.js predict --help\)$/,
  ],
  [
    'unknown command',
    ['predcit'],
    2,
    /^mnist: unknown command "predcit" \(commands: predict, train, visualize, explain, inspect; see node dist\/mnist\.js --help\)$/,
  ],
  ['--lr -1', ['train', '--lr', '-1'], 2, /^mnist train: invalid --lr: "-1" \(expected a number > 0\)$/],
  ['--lr abc', ['train', '--lr', 'abc'], 2, /invalid --lr: "abc"/],
  [
    '--epochs 0',
    ['train', '--epochs', '0'],
    2,
    /^mnist train: invalid --epochs: "0" \(expected a whole number >= 1\)$/,
  ],
  ['--epochs 1.5', ['train', '--epochs', '1.5'], 2, /invalid --epochs: "1.5"/],
  [
    '--limit abc',
    ['predict', '--limit', 'abc'],
    2,
    /^mnist predict: invalid --limit: "abc" \(expected a whole number >= 1\)$/,
  ],
  [
    '--momentum 1',
    ['train', '--momentum', '1'],
    2,
    /invalid --momentum: "1" \(expected a number from 0 up to \(not including\) 1\)/,
  ],
  ['--hidden 0', ['train', '--hidden', '512,0'], 2, /invalid --hidden: "512,0"/],
  ['--batch-size -3', ['predict', '--batch-size', '-3'], 2, /invalid --batch-size: "-3"/],
  [
    '--threads 0',
    ['predict', '--threads', '0'],
    2,
    /^mnist predict: invalid --threads: "0" \(expected auto or a whole number from 1 to 64\)$/,
  ],
  ['--threads many', ['train', '--threads', 'many'], 2, /invalid --threads: "many"/],
  ['--format gif', ['visualize', '--format', 'gif'], 2, /invalid --format: "gif" \(expected one of svg, png\)/],
  ['missing value', ['predict', '--model'], 2, /^mnist predict: --model needs a value/],
  ['flag given twice', ['predict', '--limit', '3', '--limit', '4'], 2, /--limit given twice/],
  ['value on a flag', ['predict', '--json=yes'], 2, /--json takes no value/],
  [
    '--index out of range',
    ['predict', '--index', '10000'],
    2,
    /invalid --index: 10000 is out of range; the test set has 10,000 images \(0\.\.9999\)/,
  ],
  ['--image with --limit', ['predict', '--image', 'x.png', '--limit', '3'], 2, /--image does not go with --limit/],
  ['--images without --labels', ['predict', '--images', images], 2, /--images and --labels go together/],
  ['--init with --hidden', ['train', '--init', 'x.pth', '--hidden', '64'], 2, /--hidden does not go with --init/],
  ['inspect without a file', ['inspect'], 2, /^mnist inspect: which file\?/],
  ['stray argument', ['train', 'out.pth'], 2, /unexpected argument "out\.pth"/],
  // input files: exit 1
  [
    'missing model',
    ['predict', '--model', path.join(dir, 'nope.pth')],
    1,
    /^mnist predict: model .*nope\.pth: no such file; check the path$/,
  ],
  ['model is a folder', ['predict', '--model', folder], 1, /model .*a-folder: is a directory, expected a file/],
  ['missing inspect file', ['inspect', path.join(dir, 'nope.pth')], 1, /nope\.pth: no such file/],
  [
    'input size 100',
    ['predict', '--model', wrongInputs],
    1,
    /model .*inputs100\.pth takes 100 inputs, but MNIST images have 784 \(28x28\) pixels; pass a model whose first layer is Linear\(784, \.\.\.\)/,
  ],
  [
    '5 classes',
    ['predict', '--model', wrongClasses],
    1,
    /classes5\.pth has 5 output classes, but the data set has 10 \(digits 0-9\); pass a model whose last layer is Linear\(\.\.\., 10\)/,
  ],
  [
    '5 classes, train --init',
    ['train', '--init', wrongClasses, '--out', path.join(dir, 'x.pth')],
    1,
    /has 5 output classes/,
  ],
  [
    'IDX wrong magic',
    ['predict', '--images', badMagic, '--labels', labels],
    1,
    /bad-magic-idx3-ubyte: magic number 0x00000804 is not 0x00000803 \(images\).*\[IDX_BAD_MAGIC\]/,
  ],
  [
    'labels given as images',
    ['predict', '--images', labels, '--labels', labels],
    1,
    /magic number 0x00000801 is not 0x00000803 .*\[IDX_BAD_MAGIC\]/,
  ],
  [
    'IDX truncated',
    ['predict', '--images', truncated, '--labels', labels],
    1,
    /truncated-idx3-ubyte: holds 10,000 images of 28x28 by its header \(7,840,000 bytes of data\), but only 99,984 bytes follow.*\[IDX_TRUNCATED\]/,
  ],
  [
    'IDX count mismatch',
    ['predict', '--images', images, '--labels', fewLabels],
    1,
    /few-labels-idx1-ubyte: holds 100 labels but .*t10k-images-idx3-ubyte holds 10,000 images.*\[IDX_MISMATCH\]/,
  ],
  [
    'corrupt gzip',
    ['predict', '--images', images, '--labels', badGzip],
    1,
    /bad\.gz: corrupt gzip data.*\[IDX_BAD_GZIP\]/,
  ],
  [
    'data folder without MNIST',
    ['predict', '--data', folder],
    1,
    /data folder .*a-folder has no t10k-images-idx3-ubyte \(plain or \.gz\)/,
  ],
  [
    'existing output',
    ['train', '--out', existing],
    1,
    /output .*existing\.pth already exists; pass --force to overwrite it/,
  ],
  ['output is a folder', ['train', '--out', folder, '--force'], 1, /output .*a-folder is a directory/],
  [
    'output folder missing',
    ['train', '--out', path.join(dir, 'no', 'such', 'm.pth')],
    1,
    /output folder .* does not exist or is not writable/,
  ],
];

describe('errors: one line, right exit code, nothing on stdout', () => {
  it.concurrent.each(cases)('%s', async (_name, args, code, message) => {
    const run = await mnistAsync(args);
    expect(run.code, run.stderr).toBe(code);
    expect(oneLineError(run)).toMatch(message);
    expect(run.stdout).toBe('');
  });

  it('checks the output before loading any data (fast refusal)', () => {
    const run = mnist(['train', '--out', existing]);
    expect(run.code).toBe(1);
    expect(run.ms).toBeLessThan(5_000);
    expect(readFileSync(existing, 'utf8')).toBe('keep me');
  });

  it('prints the stack only with --verbose', () => {
    const run = mnist(['predict', '--model', path.join(LOADER_FIXTURES, 'hostile', 'random_bytes.pth'), '--verbose']);
    expect(run.code).toBe(1);
    expect(run.stderr.split('\n')[0]).toMatch(/random_bytes\.pth: .*\[PTH_NOT_PTH\]$/);
    expect(run.stderr).toMatch(/^\s+at /m);
  });
});

describe('every hostile .pth of the loader fixtures gives its loader error code, exit 1', () => {
  const hostile: Array<{ file: string; code: string; why: string }> = JSON.parse(
    readFileSync(path.join(LOADER_FIXTURES, 'hostile.json'), 'utf8'),
  ).fixtures;
  const codes = new Set(hostile.map((h) => h.code));
  it('covers every loader error code the fixtures exercise', () => {
    for (const code of [
      'PTH_NOT_PTH',
      'PTH_TRUNCATED',
      'PTH_UNSAFE_GLOBAL',
      'PTH_MISSING_RECORD',
      'PTH_STORAGE_SIZE',
      'PTH_UNSUPPORTED_DTYPE',
      'PTH_NOT_MLP',
    ]) {
      expect(codes.has(code), code).toBe(true);
    }
  });
  it.concurrent.each(hostile.map((h) => [h.file, h.code, h.why] as const))('%s -> %s (%s)', async (file, code) => {
    const run = await mnistAsync(['predict', '--limit', '1', '--model', path.join(LOADER_FIXTURES, 'hostile', file)], {
      timeout: 30_000,
    });
    expect(run.code, run.stderr).toBe(1);
    const line = oneLineError(run);
    expect(line).toContain(`${file}: `);
    expect(line.endsWith(`[${code}]`), line).toBe(true);
    expect(run.stdout).toBe('');
  });
});
