// Hostile and broken inputs: devices, pipes and oversized files are refused before they are read whole;
// pictures whose header promises too many decoded bytes are refused before decoding; IDX files of the wrong shape,
// empty or truncated, name the file and what it holds; outputs that are devices, FIFOs, sockets, directories or links
// to them are never written over; text from files never reaches the terminal raw; training that stops being finite
// exits 1. Every input is made here. Every error line is one line of at most 300 characters with no control character.
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { crc32, deflateSync, gzipSync } from 'node:zlib';
import { loadMlp, savePth, type PthTensor } from '@mnist/loader';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, DEFAULT_MODEL, MNIST_DIR, mnist, mnistAsync, oneLineError, tempDir, type Run } from './helpers.js';

const dir = tempDir('mnist-hostile-');
const testImages = path.join(MNIST_DIR, 't10k-images-idx3-ubyte');
const testLabels = path.join(MNIST_DIR, 't10k-labels-idx1-ubyte');
/** No test may hang on an unbounded read: each CLI run gets this long, then is killed (and the test fails). */
const BOUNDED = 60_000;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
// eslint-disable-next-line no-control-regex
const CONTROL_EXCEPT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** The run ended by itself with exit 1 and one error line: short, no control character, nothing on stdout. */
function refused(run: Run): string {
  expect(
    run.signal,
    `killed (${run.signal}): the command did not end by itself; stderr: ${run.stderr.slice(0, 500)}`,
  ).toBeNull();
  expect(run.code, run.stderr).toBe(1);
  expect(run.stdout).toBe('');
  return checkedLine(oneLineError(run));
}

function checkedLine(line: string): string {
  expect(line.length, line).toBeLessThanOrEqual(300);
  expect(CONTROL.test(line), JSON.stringify(line)).toBe(false);
  expect(line).not.toMatch(/forward:|internal error/);
  return line;
}

function idx(magic: number, dims: number[], body: Uint8Array | Buffer): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, body]);
}

function write(name: string, bytes: Uint8Array | string): string {
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

function mkfifo(name: string): string {
  const file = path.join(dir, name);
  const r = spawnSync('mkfifo', [file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mkfifo failed: ${r.stderr}`);
  return file;
}

/** A child process that writes into a FIFO (blocks until the CLI opens it); killed after the test file. */
function fifoWriter(shell: string) {
  const child = spawn('sh', ['-c', shell], { stdio: 'ignore' });
  afterAll(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

describe('inputs that never end: devices are refused before a byte is read', () => {
  const out = path.join(dir, 'never.pth');
  const figures = path.join(dir, 'never-figures');
  const cases: Array<[string, string[], RegExp]> = [
    [
      'inspect /dev/zero',
      ['inspect', '/dev/zero'],
      /^mnist inspect: model \/dev\/zero: is a character device, not a regular file/,
    ],
    [
      'inspect /dev/urandom',
      ['inspect', '/dev/urandom'],
      /^mnist inspect: model \/dev\/urandom: is a character device, not a regular file/,
    ],
    ['predict --model /dev/zero', ['predict', '--model', '/dev/zero'], /model \/dev\/zero: is a character device/],
    [
      'predict --model /dev/urandom',
      ['predict', '--model', '/dev/urandom'],
      /model \/dev\/urandom: is a character device/,
    ],
    ['predict --image /dev/zero', ['predict', '--image', '/dev/zero'], /image \/dev\/zero: is a character device/],
    [
      'predict --image /dev/urandom',
      ['predict', '--image', '/dev/urandom'],
      /image \/dev\/urandom: is a character device/,
    ],
    [
      'predict --images /dev/zero',
      ['predict', '--images', '/dev/zero', '--labels', testLabels],
      /images file \/dev\/zero: is a character device/,
    ],
    [
      'predict --labels /dev/urandom',
      ['predict', '--images', testImages, '--labels', '/dev/urandom'],
      /labels file \/dev\/urandom: is a character device/,
    ],
    [
      'train --init /dev/zero',
      ['train', '--init', '/dev/zero', '--out', out],
      /model \/dev\/zero: is a character device/,
    ],
    [
      'visualize --model /dev/urandom',
      ['visualize', '--model', '/dev/urandom', '--out', figures],
      /model \/dev\/urandom: is a character device/,
    ],
  ];
  it.concurrent.each(cases)('%s', async (_name, args, message) => {
    expect(refused(await mnistAsync(args, { timeout: BOUNDED }))).toMatch(message);
  });

  it('refuses a Unix socket as an input', async () => {
    const socket = path.join(dir, 'model.sock');
    const server = net.createServer().listen(socket);
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      expect(refused(await mnistAsync(['inspect', socket], { timeout: BOUNDED }))).toMatch(
        /model .*model\.sock: is a socket, not a regular file/,
      );
    } finally {
      server.close();
    }
  });
});

describe('size caps: --max-file-size and the defaults (models 512 MB, IDX files 256 MB, pictures 64 MB)', () => {
  const modelSize = statSync(DEFAULT_MODEL).size;

  it('reads a file of exactly the cap and refuses one byte more, naming the cap and the option', () => {
    const ok = mnist(['inspect', DEFAULT_MODEL, '--json', '--max-file-size', String(modelSize)]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).bytes).toBe(modelSize);
    const line = refused(mnist(['inspect', DEFAULT_MODEL, '--max-file-size', String(modelSize - 1)]));
    expect(line).toBe(
      `mnist inspect: model ${DEFAULT_MODEL}: is larger than the --max-file-size of ${(modelSize - 1).toLocaleString('en-US')} bytes; pass --max-file-size with a larger size (e.g. --max-file-size ${2 * (modelSize - 1)}) if the file is right`,
    );
  });

  it('accepts sizes with units and refuses nonsense (exit 2)', () => {
    expect(refused(mnist(['predict', '--image', DEFAULT_MODEL, '--max-file-size', '1KB']))).toMatch(
      /image .*mnist_model\.pth: is larger than the --max-file-size of 1 KB; pass --max-file-size/,
    );
    for (const bad of ['0', '-5', '12x', '1.5TB', '']) {
      const run = mnist(['inspect', DEFAULT_MODEL, '--max-file-size', bad]);
      expect(run.code, bad).toBe(2);
      expect(checkedLine(oneLineError(run))).toMatch(/invalid --max-file-size: ".*" \(expected a size such as 64MB/);
    }
  });

  it('refuses files over the default caps from their size alone (sparse files: nothing is read)', async () => {
    const sparse = (name: string, size: number) => {
      const file = write(name, '');
      truncateSync(file, size);
      return file;
    };
    const model = sparse('huge.pth', 512 * 1024 * 1024 + 1);
    const images = sparse('huge-images-idx3-ubyte', 256 * 1024 * 1024 + 1);
    const picture = sparse('huge.png', 64 * 1024 * 1024 + 1);
    const runs = await Promise.all([
      mnistAsync(['inspect', model], { timeout: BOUNDED }),
      mnistAsync(['predict', '--images', images, '--labels', testLabels], { timeout: BOUNDED }),
      mnistAsync(['predict', '--image', picture], { timeout: BOUNDED }),
    ]);
    expect(refused(runs[0]!)).toMatch(
      /model .*huge\.pth: is larger than the 512 MB limit for models; pass --max-file-size with a larger size \(e\.g\. --max-file-size 1GB\) if the file is right$/,
    );
    expect(refused(runs[1]!)).toMatch(
      /images file .*huge-images-idx3-ubyte: is larger than the 256 MB limit for IDX files; pass --max-file-size/,
    );
    expect(refused(runs[2]!)).toMatch(
      /image .*huge\.png: is larger than the 64 MB limit for pictures; pass --max-file-size/,
    );
  });

  it('bounds a gzipped IDX file after inflating it too', () => {
    const gz = path.join(dir, 'gz-data');
    mkdirSync(gz);
    writeFileSync(path.join(gz, 't10k-images-idx3-ubyte.gz'), gzipSync(readFileSync(testImages)));
    writeFileSync(path.join(gz, 't10k-labels-idx1-ubyte'), readFileSync(testLabels));
    // 7.8 MB of images inflate past a 1 MB cap, though the .gz itself is under it
    expect(statSync(path.join(gz, 't10k-images-idx3-ubyte.gz')).size).toBeLessThan(2 * 1024 * 1024);
    const line = refused(mnist(['predict', '--data', gz, '--max-file-size', '2MB']));
    expect(line).toMatch(
      /t10k-images-idx3-ubyte\.gz: inflates to more than the --max-file-size of 2 MB; pass --max-file-size .* \[IDX_TOO_LARGE\]$/,
    );
  });
});

describe('pipes: read chunk by chunk up to the cap', () => {
  it('refuses a FIFO that sends more than the cap (the writer never stops)', async () => {
    const fifo = mkfifo('endless.fifo');
    const writer = fifoWriter(`exec cat /dev/zero > '${fifo}'`);
    const run = await mnistAsync(['inspect', fifo, '--max-file-size', '1MB'], { timeout: BOUNDED });
    expect(refused(run)).toMatch(
      /model .*endless\.fifo: sent more than the --max-file-size of 1 MB; pass --max-file-size/,
    );
    // The writer loses its reader and ends (SIGPIPE).
    await new Promise((resolve) =>
      writer.exitCode !== null || writer.signalCode !== null ? resolve(null) : writer.once('exit', resolve),
    );
  });

  it('reads a model from a FIFO within the cap', async () => {
    const fifo = mkfifo('model.fifo');
    fifoWriter(`exec cat '${DEFAULT_MODEL}' > '${fifo}'`);
    const run = await mnistAsync(['inspect', fifo, '--json'], { timeout: BOUNDED });
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc.bytes).toBe(statSync(DEFAULT_MODEL).size);
    expect(doc.mlp.parameters).toBe(407_050);
  });
});

// ---- pictures whose header promises more than the budget -----------------------------------------------------

function pngChunk(type: string, data: Buffer): Buffer {
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, 'latin1');
  data.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return chunk;
}

/** A valid-looking PNG header of any size, with a tiny IDAT: a few hundred bytes that promise `width x height`. */
function pngHeaderOnly(width: number, height: number, bitDepth: number, colorType: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = colorType;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(4096))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** SOI, a JFIF APP0 segment, then a baseline SOF0 of the given size and components, then EOI. */
function jpegHeaderOnly(width: number, height: number, components: number, precision = 8): Buffer {
  const app0 = [0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0];
  const comps = Array.from({ length: components }, (_, i) => [i + 1, 0x11, 0]).flat();
  const sof = [
    0xff,
    0xc0,
    0,
    8 + 3 * components,
    precision,
    height >> 8,
    height & 255,
    width >> 8,
    width & 255,
    components,
    ...comps,
  ];
  return Buffer.from([0xff, 0xd8, ...app0, ...sof, 0xff, 0xd9]);
}

/** Runs the CLI with a preload that records the process's peak RSS (KB) at exit. */
function mnistWithPeakRss(args: string[]): { run: Run; peakMb: number } {
  const preload = write(
    'peak-rss.cjs',
    "process.on('exit', () => require('fs').writeFileSync(process.env.PEAK_RSS_FILE, String(process.resourceUsage().maxRSS)));",
  );
  const rssFile = path.join(dir, `rss-${Math.random().toString(36).slice(2)}`);
  const t0 = performance.now();
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', PEAK_RSS_FILE: rssFile };
  delete env.FORCE_COLOR;
  const r = spawnSync(process.execPath, ['--require', preload, BIN, ...args], {
    encoding: 'utf8',
    env,
    timeout: BOUNDED,
  });
  const run = { code: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal, ms: performance.now() - t0 };
  return { run, peakMb: Number(readFileSync(rssFile, 'utf8')) / 1024 };
}

describe('pictures are bounded by decoded bytes, from their header, before decoding', () => {
  it('refuses a 380-byte PNG claiming 49 MP of 16-bit RGBA without decoding it (small peak memory)', () => {
    const file = write('bomb.png', pngHeaderOnly(7000, 7000, 16, 6));
    expect(statSync(file).size).toBeLessThan(1000);
    const { run, peakMb } = mnistWithPeakRss(['predict', '--image', file]);
    expect(refused(run)).toMatch(
      /image .*bomb\.png: 7000x7000 16-bit RGBA PNG is 49 megapixels and decodes to 373\.8 MB; pictures are limited to 16 megapixels and 64 MB of decoded samples: scale it down/,
    );
    // Decoding it took 1.3 GB before; the CLI with its embedded model and WASM core needs well under 300 MB.
    console.log(`49 MP PNG refused: peak RSS ${peakMb.toFixed(0)} MB`);
    expect(peakMb).toBeLessThan(300);
  });

  it('refuses on decoded bytes even under the pixel cap (4000x4000 16-bit RGBA = 122 MB of samples)', () => {
    const run = mnist(['predict', '--image', write('deep.png', pngHeaderOnly(4000, 4000, 16, 6))]);
    expect(refused(run)).toMatch(
      /deep\.png: 4000x4000 16-bit RGBA PNG is 16 megapixels and decodes to 122\.1 MB; pictures are limited to 16 megapixels and 64 MB/,
    );
  });

  it('refuses JPEG frame headers claiming huge pictures (pixels, or bytes of 12-bit CMYK)', () => {
    const { run, peakMb } = mnistWithPeakRss([
      'predict',
      '--image',
      write('bomb.jpg', jpegHeaderOnly(60000, 60000, 3)),
    ]);
    expect(refused(run)).toMatch(
      /bomb\.jpg: 60000x60000 8-bit 3-channel JPEG is 3600 megapixels and decodes to 10\.1 GB; pictures are limited to 16 megapixels/,
    );
    expect(peakMb).toBeLessThan(300);
    const cmyk = mnist(['predict', '--image', write('cmyk.jpg', jpegHeaderOnly(3000, 3000, 4, 12))]);
    expect(refused(cmyk)).toMatch(
      /cmyk\.jpg: 3000x3000 12-bit 4-channel JPEG is 9\.0 megapixels and decodes to 68\.7 MB; pictures are limited/,
    );
  });

  it('refuses a JPEG without a frame header and a PNG without IHDR as undecodable', () => {
    const small = mnist([
      'predict',
      '--json',
      '--image',
      write('no-sof.jpg', Buffer.from([0xff, 0xd8, 0xff, 0xda, 0, 2, 0xff, 0xd9])),
    ]);
    expect(refused(small)).toMatch(
      /no-sof\.jpg: cannot decode this JPEG file \(no frame header \(SOF\) before the image data\); re-save it/,
    );
    const headerless = mnist([
      'predict',
      '--image',
      write(
        'no-ihdr.png',
        Buffer.concat([
          Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
          pngChunk('IEND', Buffer.alloc(0)),
        ]),
      ),
    ]);
    expect(refused(headerless)).toMatch(
      /no-ihdr\.png: cannot decode this PNG file \(no IHDR header after the signature\)/,
    );
  });
});

// ---- IDX files of the wrong shape, empty, truncated, mislabelled -----------------------------------------------

describe('IDX files must be N x 28 x 28 images and N labels 0-9', () => {
  const images100 = write('images100.idx', idx(0x803, [100, 28, 28], Buffer.alloc(100 * 784, 9)));
  const labels100 = write('labels100.idx', idx(0x801, [100], Buffer.alloc(100, 3)));
  const images32 = write('images32.idx', idx(0x803, [100, 32, 32], Buffer.alloc(100 * 1024, 9)));
  const lying = write('lying.idx', idx(0x803, [100, 28, 28], Buffer.alloc(100 * 1024, 9)));
  const badLabel = Buffer.alloc(100, 3);
  badLabel[42] = 12;
  const labelsBad = write('labels-bad.idx', idx(0x801, [100], badLabel));
  const labels50 = write('labels50.idx', idx(0x801, [50], Buffer.alloc(50, 3)));
  const empty = write('empty.idx', '');
  const noImages = write('no-images.idx', idx(0x803, [0, 28, 28], Buffer.alloc(0)));
  const noLabels = write('no-labels.idx', idx(0x801, [0], Buffer.alloc(0)));
  const truncated = write('truncated.idx', idx(0x803, [100, 28, 28], Buffer.alloc(5000, 9)));
  const cutHeader = write('cut-header.idx', idx(0x803, [100], Buffer.alloc(0)));

  const cases: Array<[string, string, string, RegExp]> = [
    [
      '32x32 images',
      images32,
      labels100,
      /images32\.idx: holds 100 images of 32x32; expected 28x28 MNIST images: .* \[IDX_BAD_SHAPE\]$/,
    ],
    [
      '32x32 data behind a 28x28 header',
      lying,
      labels100,
      /lying\.idx: holds 100 images of 28x28 by its header \(78,400 bytes of data\), but 102,400 bytes follow: .*\[IDX_BAD_SHAPE\]$/,
    ],
    [
      'a label out of range',
      images100,
      labelsBad,
      /labels-bad\.idx: holds label 12 at index 42; expected labels 0-9 .*\[IDX_BAD_LABEL\]$/,
    ],
    [
      'counts that disagree',
      images100,
      labels50,
      /labels50\.idx: holds 50 labels but .*images100\.idx holds 100 images: pass the labels file that belongs to these images \[IDX_MISMATCH\]$/,
    ],
    [
      'an empty images file',
      empty,
      labels100,
      /empty\.idx: is empty \(0 bytes\): pass an IDX images file .*\[IDX_EMPTY\]$/,
    ],
    [
      'an empty labels file',
      images100,
      empty,
      /empty\.idx: is empty \(0 bytes\): pass an IDX labels file .*\[IDX_EMPTY\]$/,
    ],
    [
      'a header counting 0 images',
      noImages,
      noLabels,
      /no-images\.idx: holds no images \(its header counts 0\).*\[IDX_EMPTY\]$/,
    ],
    [
      'a truncated images file',
      truncated,
      labels100,
      /truncated\.idx: holds 100 images of 28x28 by its header \(78,400 bytes of data\), but only 5,000 bytes follow: the file is incomplete.*\[IDX_TRUNCATED\]$/,
    ],
    [
      'a truncated header',
      cutHeader,
      labels100,
      /cut-header\.idx: its 16-byte header is cut short after 8 bytes.*\[IDX_TRUNCATED\]$/,
    ],
  ];
  it.concurrent.each(cases)('predict --images/--labels: %s', async (_name, images, labels, message) => {
    expect(
      refused(await mnistAsync(['predict', '--images', images, '--labels', labels], { timeout: BOUNDED })),
    ).toMatch(message);
  });

  /** A --data folder with the four MNIST names; `replace` swaps some of them for broken files. */
  function dataDir(name: string, replace: Record<string, Buffer | string>): string {
    const folder = path.join(dir, name);
    mkdirSync(folder);
    for (const base of [
      'train-images-idx3-ubyte',
      'train-labels-idx1-ubyte',
      't10k-images-idx3-ubyte',
      't10k-labels-idx1-ubyte',
    ]) {
      const source = base.startsWith('train-images') || base.startsWith('t10k-images') ? images100 : labels100;
      writeFileSync(path.join(folder, base), replace[base] ?? readFileSync(source));
    }
    return folder;
  }
  const trainCases: Array<[string, Record<string, Buffer | string>, RegExp]> = [
    [
      '32x32 training images',
      { 'train-images-idx3-ubyte': readFileSync(images32) },
      /train-images-idx3-ubyte: holds 100 images of 32x32; expected 28x28 MNIST images.*\[IDX_BAD_SHAPE\]$/,
    ],
    [
      'a training label out of range',
      { 'train-labels-idx1-ubyte': readFileSync(labelsBad) },
      /train-labels-idx1-ubyte: holds label 12 at index 42.*\[IDX_BAD_LABEL\]$/,
    ],
    [
      'training counts that disagree',
      { 'train-labels-idx1-ubyte': readFileSync(labels50) },
      /train-labels-idx1-ubyte: holds 50 labels but .*train-images-idx3-ubyte holds 100 images.*\[IDX_MISMATCH\]$/,
    ],
    [
      'an empty test images file',
      { 't10k-images-idx3-ubyte': '' },
      /t10k-images-idx3-ubyte: is empty \(0 bytes\).*\[IDX_EMPTY\]$/,
    ],
    [
      'truncated test labels',
      { 't10k-labels-idx1-ubyte': readFileSync(labels100).subarray(0, 60) },
      /t10k-labels-idx1-ubyte: holds 100 labels by its header \(100 bytes of data\), but only 52 bytes follow.*\[IDX_TRUNCATED\]$/,
    ],
  ];
  it.concurrent.each(trainCases)('train --data: %s', async (name, replace, message) => {
    const folder = dataDir(`data-${name.replace(/\W+/g, '-')}`, replace);
    const out = path.join(folder, 'out.pth');
    expect(
      refused(
        await mnistAsync(['train', '--data', folder, '--epochs', '1', '--hidden', '8', '--out', out], {
          timeout: BOUNDED,
        }),
      ),
    ).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });

  it('predict --data and visualize --data check the test files the same way', async () => {
    const folder = dataDir('data-test-32', { 't10k-images-idx3-ubyte': readFileSync(images32) });
    const [predict, visualize] = await Promise.all([
      mnistAsync(['predict', '--data', folder], { timeout: BOUNDED }),
      mnistAsync(['visualize', '--data', folder, '--out', path.join(folder, 'figures')], { timeout: BOUNDED }),
    ]);
    expect(refused(predict)).toMatch(
      /t10k-images-idx3-ubyte: holds 100 images of 32x32; expected 28x28 MNIST images.*\[IDX_BAD_SHAPE\]$/,
    );
    expect(refused(visualize)).toMatch(/t10k-images-idx3-ubyte: holds 100 images of 32x32.*\[IDX_BAD_SHAPE\]$/);
  });
});

// ---- outputs: a regular file or a new name, never a device, FIFO, socket or directory -------------------------

describe('outputs are never devices, FIFOs, sockets or directories, even with --force', () => {
  const train = (out: string) => [
    'train',
    '--out',
    out,
    '--force',
    '--epochs',
    '1',
    '--train-limit',
    '64',
    '--hidden',
    '8',
  ];

  it.runIf(existsSync('/dev/full'))('train --out /dev/full --force leaves the device alone', () => {
    const line = refused(mnist(train('/dev/full')));
    expect(line).toBe(
      'mnist train: output /dev/full is a character device, not a regular file, so it is never replaced (not even with --force); choose another --out',
    );
    expect(statSync('/dev/full').isCharacterDevice()).toBe(true);
    expect(lstatSync('/dev/full').isCharacterDevice()).toBe(true);
    expect(readdirSync('/dev').filter((f) => f.startsWith('.full.'))).toEqual([]);
  });

  it('refuses a FIFO, a directory, a socket and symbolic links to a device or a directory', async () => {
    const fifo = mkfifo('out.fifo');
    const folder = path.join(dir, 'out-folder');
    mkdirSync(folder);
    const toNull = path.join(dir, 'to-null.pth');
    symlinkSync('/dev/null', toNull);
    const toFolder = path.join(dir, 'to-folder.pth');
    symlinkSync(folder, toFolder);
    const socket = path.join(dir, 'out.sock');
    const server = net.createServer().listen(socket);
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const runs = await Promise.all(
        [fifo, folder, toNull, toFolder, socket].map((out) => mnistAsync(train(out), { timeout: BOUNDED })),
      );
      expect(refused(runs[0]!)).toMatch(
        /output .*out\.fifo is a FIFO \(named pipe\), not a regular file, so it is never replaced/,
      );
      expect(refused(runs[1]!)).toMatch(/output .*out-folder is a directory; pass a file name/);
      expect(refused(runs[2]!)).toMatch(
        /output .*to-null\.pth is a character device \(through a symbolic link\), not a regular file/,
      );
      expect(refused(runs[3]!)).toMatch(/output .*to-folder\.pth is a directory \(through a symbolic link\)/);
      expect(refused(runs[4]!)).toMatch(/output .*out\.sock is a socket, not a regular file/);
    } finally {
      server.close();
    }
    expect(statSync(fifo).isFIFO()).toBe(true);
    expect(lstatSync(toNull).isSymbolicLink()).toBe(true);
    expect(readlinkSync(toNull)).toBe('/dev/null');
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('visualize refuses a figure name that is a link to a device or a FIFO, before writing any figure', () => {
    const figures = path.join(dir, 'figures-trap');
    mkdirSync(figures);
    symlinkSync('/dev/null', path.join(figures, 'fc1-bias.svg'));
    spawnSync('mkfifo', [path.join(figures, 'predictions.svg')]);
    const line = refused(mnist(['visualize', '--out', figures]));
    expect(line).toMatch(
      /output .*figures-trap\/fc1-bias\.svg is a character device \(through a symbolic link\), not a regular file/,
    );
    expect(readdirSync(figures).sort()).toEqual(['fc1-bias.svg', 'predictions.svg']);
    expect(statSync(path.join(figures, 'predictions.svg')).isFIFO()).toBe(true);
  });
});

// ---- text from files never reaches the terminal raw -------------------------------------------------------------

describe('names holding terminal escapes are shown escaped; --json stays valid and round-trips', () => {
  // A name that sets the window title, clears the screen, opens an 8-bit CSI, reverses the text direction and
  // deletes; and one that returns to the line start to print a fake "ok" (CR and U+2028 also end a line).
  const titleName = 'fc1\x1b]0;pwned\x07\x1b[2J\u009b31m\u202e\x7f';
  const crName = '\x1b]0;pwned\x07\x1b[2J\r ok\u2028';
  const layer = (name: string, inputs: number, out: number) => ({
    name,
    in: inputs,
    out,
    weight: new Float32Array(inputs * out).fill(0.01),
    bias: new Float32Array(out),
  });
  const titleModel = write('title.pth', savePth({ layers: [layer(titleName, 784, 8), layer('fc2', 8, 10)] }));
  const tensor = (name: string, shape: number[]): PthTensor => ({
    name,
    dtype: 'float32',
    shape,
    data: new Float32Array(shape.reduce((a, b) => a * b, 1)),
  });
  const crModel = write('cr.pth', savePth([tensor(`${crName}.weight`, [10, 784]), tensor(`${crName}.bias`, [10])]));
  // a chain no Linear stack makes (a 3-D weight): refused, naming the tensor
  const crBadModel = write('cr-bad.pth', savePth([tensor(`${crName}.weight`, [2, 3, 4])]));
  const longModel = write('long.pth', savePth([tensor(`${'\x1b[2J'.repeat(200)}\r ok`, [10])]));

  it('inspect shows the names escaped (no control character on stdout)', () => {
    for (const file of [titleModel, crModel]) {
      const run = mnist(['inspect', file]);
      expect(run.code, run.stderr).toBe(0);
      expect(CONTROL_EXCEPT_NEWLINE.test(run.stdout), JSON.stringify(run.stdout)).toBe(false);
    }
    const title = mnist(['inspect', titleModel]).stdout;
    expect(title).toContain('fc1\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202e\\x7f.weight');
    expect(title).toContain('fc1\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202e\\x7f: Linear(784, 8)');
    expect(mnist(['inspect', crModel]).stdout).toContain('\\x1b]0;pwned\\x07\\x1b[2J\\r ok\\u2028.weight');
  });

  it('inspect --json escapes C0, C1, U+2028 and bidi controls, and JSON.parse gives the names back', () => {
    for (const [file, name] of [
      [titleModel, titleName],
      [crModel, crName],
    ] as const) {
      const run = mnist(['inspect', file, '--json']);
      expect(run.code, run.stderr).toBe(0);
      expect(CONTROL_EXCEPT_NEWLINE.test(run.stdout), JSON.stringify(run.stdout)).toBe(false);
      const doc = JSON.parse(run.stdout);
      expect(doc.tensors.map((t: { name: string }) => t.name).slice(0, 2)).toEqual([`${name}.weight`, `${name}.bias`]);
    }
  });

  it('predict shows the model and its names escaped, on screen and in --json', () => {
    const human = mnist(['predict', '--model', titleModel, '--limit', '3', '--examples', '1']);
    expect(human.code, human.stderr).toBe(0);
    expect(CONTROL_EXCEPT_NEWLINE.test(human.stdout)).toBe(false);
    const json = mnist(['predict', '--model', titleModel, '--limit', '3', '--json']);
    expect(CONTROL_EXCEPT_NEWLINE.test(json.stdout)).toBe(false);
    expect(JSON.parse(json.stdout).model.names).toEqual([titleName, 'fc2']);
  });

  it('visualize lists its figures with the names escaped', () => {
    const run = mnist([
      'visualize',
      '--model',
      titleModel,
      '--out',
      path.join(dir, 'title-figures'),
      '--examples',
      '10',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(CONTROL_EXCEPT_NEWLINE.test(run.stdout), run.stdout).toBe(false);
    expect(run.stdout).toContain('fc1\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202e\\x7f.weight heatmap');
  });

  it('the error line of a bad file holding such a name has no control character and ends with the code', () => {
    // (However the loader quotes names, what reaches the terminal is escaped.)
    const cr = refused(mnist(['predict', '--model', crBadModel]));
    expect(cr).toMatch(/cr-bad\.pth: .*pwned.* ok.*\[PTH_NOT_MLP\]$/);
    // A 1,000-character name (1,400 once escaped): the line is cut in the middle, keeping where, what to do and the code.
    const long = refused(mnist(['predict', '--model', longModel]));
    expect(long).toMatch(/^mnist predict: .*long\.pth: .*2J.* … .*\[PTH_[A-Z_]+\]$/);
    // A path typed with escapes in it is escaped too.
    const typed = refused(mnist(['predict', '--model', path.join(dir, 'missing\x1b[2J\r ok.pth')]));
    expect(typed).toMatch(/missing\\x1b\[2J\\r ok\.pth: no such file; check the path$/);
  });
});

// ---- training that stops being finite ---------------------------------------------------------------------------

describe('training that diverges exits 1 and never writes a non-finite model', () => {
  it('train --lr 1e308: stops at the step that diverged, writes nothing, says what to try', () => {
    const out = path.join(dir, 'diverged.pth');
    const run = mnist(
      ['train', '--lr', '1e308', '--train-limit', '640', '--epochs', '2', '--hidden', '16', '--out', out],
      { timeout: BOUNDED * 2 },
    );
    expect(run.signal).toBeNull();
    expect(run.code, run.stderr).toBe(1);
    const line = checkedLine(run.stderr.trim().split('\n').pop()!);
    expect(line).toMatch(
      /^mnist train: training diverged at epoch 1, step \d+ of 10 \(training loss NaN\); nothing written to .*diverged\.pth; --lr 1e\+308 is too high: try a smaller one, e\.g\. --lr 0\.01/,
    );
    expect(existsSync(out)).toBe(false);
    expect(run.stdout).not.toMatch(/^epoch|wrote/m);
  });

  it('keeps the last finite epoch when a later one diverges, and says so', async () => {
    // One step per epoch (64 images, batch 64): with these rates the weights blow up after a few epochs.
    // Which rate keeps which epoch depends on the engine's rounding; at least one of them must keep one.
    let kept = 0;
    for (const lr of ['1e9', '3e9', '1e10']) {
      const out = path.join(dir, `kept-${lr}.pth`);
      const run = mnist(['train', '--lr', lr, '--train-limit', '64', '--epochs', '8', '--hidden', '16', '--out', out], {
        timeout: BOUNDED * 2,
      });
      expect(run.code, run.stderr).toBe(1);
      const line = checkedLine(run.stderr.trim().split('\n').pop()!);
      expect(line).toMatch(
        /^mnist train: training diverged at epoch \d+, step 1 of 1 \((training loss|test loss|weights of fc\d) [^)]*\); /,
      );
      const m = /wrote the last finite epoch \((\d+), test accuracy [\d.]+%\) to (.+?); --lr/.exec(line);
      if (!m) {
        expect(line).toContain(`nothing written to ${out}`);
        expect(existsSync(out)).toBe(false);
        continue;
      }
      kept++;
      expect(m[2]).toBe(out);
      expect(Number(/diverged at epoch (\d+)/.exec(line)![1])).toBe(Number(m[1]) + 1);
      expect((run.stdout.match(/^epoch \d+\/8 /gm) ?? []).length).toBe(Number(m[1]));
      const model = await loadMlp(new Uint8Array(readFileSync(out)));
      expect(model.layers.map((l) => [l.in, l.out])).toEqual([
        [784, 16],
        [16, 10],
      ]);
      expect(model.layers.every((l) => l.weight.every(Number.isFinite) && l.bias.every(Number.isFinite))).toBe(true);
      expect(model.warnings).toEqual([]);
    }
    expect(kept).toBeGreaterThan(0);
  });
});

// ---- the helpers themselves, imported from the source: escaping, cutting, the check right before the rename ------

describe('safeText, safeJson and clipMiddle', async () => {
  const { clipMiddle, safeJson, safeText } = await import('../src/term.js');
  const { checkOutputFile, writeAtomic } = await import('../src/files.js');

  it('escapes C0, DEL, C1, separators, bidi controls and lone surrogates, and nothing else', () => {
    expect(safeText('a\x1b[2J\r\n\t\x00\x7f\u0085\u009b\u2028\u2029\u202e\u2066b')).toBe(
      'a\\x1b[2J\\r\\n\\t\\x00\\x7f\\x85\\x9b\\u2028\\u2029\\u202e\\u2066b',
    );
    expect(safeText('\ud800 \udc00 😀 é ✓ C:\\path')).toBe('\\ud800 \\udc00 😀 é ✓ C:\\path');
    expect(safeText('x'.repeat(50), 10)).toBe(`${'x'.repeat(9)}…`);
  });

  it('safeJson is JSON that parses back to the same strings, with no raw control character', () => {
    const value = { name: 'a\x1b\u0085\u2028\u202e\x7f\ud800z', list: ['\r ok'] };
    const text = safeJson(value);
    expect(CONTROL.test(text)).toBe(false);
    expect(/[\ud800-\udfff]/.test(text)).toBe(false);
    expect(JSON.parse(text)).toEqual(value);
  });

  it('clipMiddle keeps both ends, never exceeds the limit and never splits an escape or a surrogate pair', () => {
    for (let n = 0; n < 400; n += 7) {
      const line = safeText(`mnist predict: ${'\x1b'.repeat(n)}😀${'é\r'.repeat(n)} [PTH_NOT_MLP]`);
      const cut = clipMiddle(line, 300);
      expect(cut.length).toBeLessThanOrEqual(300);
      expect(cut.startsWith('mnist predict: ')).toBe(true);
      expect(cut.endsWith(' [PTH_NOT_MLP]')).toBe(true);
      if (line.length <= 300) expect(cut).toBe(line);
      // every backslash still starts a whole escape; no lone surrogate
      expect(cut.replace(/\\(x[0-9a-f]{2}|u[0-9a-f]{4}|[rnt])/g, '')).not.toContain('\\');
      expect(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(cut)).toBe(false);
    }
  });

  it('writeAtomic checks the output again right before the rename', async () => {
    const file = path.join(dir, 'becomes-a-fifo.pth');
    await checkOutputFile(file, true); // a new name: fine
    spawnSync('mkfifo', [file]); // ... and then, while "training", it becomes a FIFO
    await expect(writeAtomic(file, new Uint8Array(10), true)).rejects.toMatchObject({ code: 'CLI_NOT_REGULAR' });
    expect(statSync(file).isFIFO()).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
