// The built package as others use it: imported by name from another project (exports map), bundled by esbuild for
// the browser with no loader configuration (run in Node and, when installed, in headless Chromium), and run by a
// Node without the relaxed-SIMD flag (falls back to plain).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(join(tmpdir(), 'core-wasm-consumer-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// a consumer project: node_modules/@mnist/core-wasm -> this package
mkdirSync(join(work, 'node_modules', '@mnist'), { recursive: true });
symlinkSync(pkgDir, join(work, 'node_modules', '@mnist', 'core-wasm'), 'dir');
writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
const program = `
import { Mlp, CoreError } from '@mnist/core-wasm';
const net = await Mlp.create([4, 3, 2], { seed: 9 });
net.setLayer(0, new Float32Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, -1]), new Float32Array([0, 0, 0.5]));
net.setLayer(1, new Float32Array([1, 1, 0, 0, 0, 1]), new Float32Array([0.25, 0]));
const logits = Array.from(net.forward(new Float32Array([1, 2, 3, -4]), 1));
let code = null;
try { await Mlp.create([4, 2], { simd: 'relaxed' }); } catch (e) { code = e instanceof CoreError ? e.code : String(e); }
console.log(JSON.stringify({ variant: net.variant, logits, relaxedError: code }));
`;
writeFileSync(join(work, 'main.mjs'), program);
// hand-computed: z1 = [1, 2, 3 + 4 + 0.5] -> ReLU same; logits = [1 + 2 + 0.25, 7.5]
const expected = [3.25, 7.5];

describe('the built package', () => {
  it('dist/ exists (run `pnpm --filter @mnist/core-wasm build` first)', () => {
    expect(existsSync(join(pkgDir, 'dist', 'index.js'))).toBe(true);
    expect(existsSync(join(pkgDir, 'dist', 'wasm-bytes.js'))).toBe(true);
  });

  it('imports by name from another project in plain Node (no relaxed-SIMD flag: plain SIMD, relaxed refused)', () => {
    const out = JSON.parse(execFileSync(process.execPath, ['main.mjs'], { cwd: work, encoding: 'utf8' }));
    expect(out.logits).toEqual(expected);
    expect(out.variant).toBe('simd');
    expect(out.relaxedError).toBe('CORE_UNSUPPORTED');
  });

  it('picks relaxed SIMD automatically when the engine validates it', () => {
    const out = JSON.parse(execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', 'main.mjs'], { cwd: work, encoding: 'utf8' }));
    expect(out.variant).toBe('relaxed-simd');
    expect(out.logits).toEqual(expected);
    expect(out.relaxedError).toBe(null);
  });

  it("runs the README's example (examples/readme.mjs) as written", () => {
    const out = execFileSync(process.execPath, [join(pkgDir, 'examples', 'readme.mjs')], { cwd: pkgDir, encoding: 'utf8' });
    expect(out).toMatch(/^forward Float32Array\(20\)/m);
    expect(out).toMatch(/^predict Int32Array\(2\)/m);
    expect(out).toMatch(/^trainBatch 2\.\d+/m);
    expect(out).toMatch(/CORE_BAD_SHAPE forward: x has 1568 values, expected batch x 784 = 2352/);
  });

  it('bundles with esbuild for the browser with no loader configuration, and the bundle runs', async () => {
    const result = await build({
      entryPoints: [join(work, 'main.mjs')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      write: false,
      absWorkingDir: work,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const code = result.outputFiles[0].text;
    expect(code).not.toMatch(/from\s+["']node:|require\(["']node:|["']fs["']/);
    writeFileSync(join(work, 'bundle.mjs'), code);
    const out = JSON.parse(execFileSync(process.execPath, ['bundle.mjs'], { cwd: work, encoding: 'utf8' }));
    expect(out.logits).toEqual(expected);
    // the wasm is inside the bundle, a few tens of KB
    expect(code.length).toBeLessThan(200_000);
    expect(readFileSync(join(pkgDir, 'package.json'), 'utf8')).toMatch(/"types": "\.\/dist\/index\.d\.ts",\s*"default"/);
  });

  const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(chromium)) console.warn(`skipping the Chromium case: no browser at ${chromium} (apt-get install chromium, or set CHROMIUM_PATH)`);
  it.skipIf(!existsSync(chromium))(`the browser bundle runs in headless Chromium and picks relaxed SIMD there (${chromium})`, async () => {
    const result = await build({
      stdin: { contents: program.replace(/console\.log\((.*)\);\s*$/m, 'document.body.textContent = "RESULT " + $1;'), resolveDir: work, loader: 'js' },
      bundle: true, platform: 'browser', format: 'esm', target: 'es2022', outfile: join(work, 'page.js'), absWorkingDir: work, logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    writeFileSync(join(work, 'page.html'), '<!doctype html><html><body>pending<script type="module" src="page.js"></script></body></html>');
    const dom = execFileSync(chromium, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--allow-file-access-from-files', '--virtual-time-budget=10000',
      `--user-data-dir=${join(work, 'chromium-profile')}`, '--dump-dom', `file://${join(work, 'page.html')}`,
    ], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'ignore'] });
    const match = dom.match(/RESULT (\{.*?\})</);
    expect(match, `no result in the page: ${dom.slice(0, 300)}`).not.toBeNull();
    const out = JSON.parse(match![1]);
    expect(out.logits).toEqual(expected);
    expect(out.variant).toBe('relaxed-simd'); // Chromium validates relaxed SIMD natively
    expect(out.relaxedError).toBe(null);
  });
});
