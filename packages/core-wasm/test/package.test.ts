// The built package as others use it: imported by name from another project (exports map), bundled by esbuild for
// the browser with no loader configuration (run in Node and, when installed, in headless Chromium), and run by a
// Node without the relaxed-SIMD flag (falls back to plain).
import { execFile, execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS } from '../../../chromium.shared.mjs';

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
let threadsError = null;
try { (await Mlp.create([4, 2], { threads: 2 })).dispose(); } catch (e) { threadsError = e instanceof CoreError ? e.code : String(e); }
console.log(JSON.stringify({ variant: net.variant, logits, relaxedError: code, threads: net.threads, threadsError }));
net.dispose();
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
    // Node has worker_threads and SharedArrayBuffer: 'auto' starts threads, an explicit 2 works
    expect(out.threads).toBe(Math.min(availableParallelism(), 8));
    expect(out.threadsError).toBe(null);
  });

  it('picks relaxed SIMD automatically when the engine validates it', () => {
    const out = JSON.parse(
      execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', 'main.mjs'], { cwd: work, encoding: 'utf8' }),
    );
    expect(out.variant).toBe('relaxed-simd');
    expect(out.logits).toEqual(expected);
    expect(out.relaxedError).toBe(null);
  });

  it("runs the README's example (examples/readme.mjs) as written", () => {
    const out = execFileSync(process.execPath, [join(pkgDir, 'examples', 'readme.mjs')], {
      cwd: pkgDir,
      encoding: 'utf8',
    });
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
    // the wasm is inside the bundle: four binaries (plain/relaxed SIMD, with and without threads) of ~43 KB each as
    // base64 (~230 KB), plus the TS (~75 KB); a jump past 330 KB means something unintended got bundled
    expect(code.length).toBeLessThan(330_000);
    expect(readFileSync(join(pkgDir, 'package.json'), 'utf8')).toMatch(
      /"types": "\.\/dist\/index\.d\.ts",\s*"default"/,
    );
  });

  const chromium = CHROMIUM;
  if (!existsSync(chromium))
    console.warn(
      `skipping the Chromium case: no browser at ${chromium} (apt-get install chromium, or set CHROMIUM_PATH)`,
    );
  it.skipIf(!existsSync(chromium))(
    `the browser bundle runs in headless Chromium and picks relaxed SIMD there (${chromium})`,
    async () => {
      const result = await build({
        stdin: {
          contents: program.replace(/console\.log\((.*)\);\s*$/m, 'document.body.textContent = "RESULT " + $1;'),
          resolveDir: work,
          loader: 'js',
        },
        bundle: true,
        platform: 'browser',
        format: 'esm',
        target: 'es2022',
        outfile: join(work, 'page.js'),
        absWorkingDir: work,
        logLevel: 'silent',
      });
      expect(result.errors).toEqual([]);
      writeFileSync(
        join(work, 'page.html'),
        '<!doctype html><html><body>pending<script type="module" src="page.js"></script></body></html>',
      );
      const dom = execFileSync(
        chromium,
        [
          ...CHROMIUM_ARGS,
          '--allow-file-access-from-files',
          '--virtual-time-budget=10000',
          `--user-data-dir=${join(work, 'chromium-profile')}`,
          '--dump-dom',
          `file://${join(work, 'page.html')}`,
        ],
        { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'ignore'] },
      );
      const match = dom.match(/RESULT (\{.*?\})</);
      expect(match, `no result in the page: ${dom.slice(0, 300)}`).not.toBeNull();
      const out = JSON.parse(match![1]);
      expect(out.logits).toEqual(expected);
      expect(out.variant).toBe('relaxed-simd'); // Chromium validates relaxed SIMD natively
      expect(out.relaxedError).toBe(null);
      // a page that is not cross-origin isolated (and a main thread, where Atomics.wait is not allowed): one thread
      // under 'auto', and a clear refusal for an explicit count
      expect(out.threads).toBe(1);
      expect(out.threadsError).toBe('CORE_UNSUPPORTED');
    },
  );

  it.skipIf(!existsSync(chromium))(
    'in a cross-origin-isolated page, a Web Worker runs 2 threads with the same bits as 1 (headless Chromium)',
    async () => {
      // the web app's setting: COOP/COEP headers, the network in a module Worker, helpers nested Workers from a Blob URL
      const workerSource = `
      import { Mlp } from '@mnist/core-wasm';
      const sizes = [784, 64, 10], B = 64;
      const [one, two] = await Promise.all([1, 2].map((threads) => Mlp.create(sizes, { seed: 3, threads })));
      const x = new Float32Array(512 * 784).map((_, i) => ((i * 2654435761) >>> 0) / 4294967296);
      const labels = Uint8Array.from({ length: 512 }, (_, i) => (i * 7) % 10);
      for (let s = 0; s < 4; s++) {
        const xs = x.subarray(s * B * 784, (s + 1) * B * 784), ys = labels.subarray(s * B, (s + 1) * B);
        one.trainBatch(xs, ys, B, { lr: 0.1 });
        two.trainBatch(xs, ys, B, { lr: 0.1 });
      }
      const a = one.forward(x, 512), b = two.forward(x, 512);
      let same = a.length === b.length;
      for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) same = false;
      const auto = await Mlp.create([4, 2]);
      await fetch('/result', { method: 'POST', body: JSON.stringify({ isolated: self.crossOriginIsolated, threads: two.threads, auto: auto.threads, same, first: a[0], variant: two.variant }) });
      one.dispose(); two.dispose(); auto.dispose();
    `;
      const result = await build({
        stdin: { contents: workerSource, resolveDir: work, loader: 'js' },
        bundle: true,
        platform: 'browser',
        format: 'esm',
        target: 'es2022',
        outfile: join(work, 'iso-worker.js'),
        absWorkingDir: work,
        logLevel: 'silent',
      });
      expect(result.errors).toEqual([]);
      // the worker POSTs its result; the page's pending GET /wait (answered once it has come) keeps headless
      // Chromium's virtual time from running out while the threads work
      const html = `<!doctype html><html><body>pending<script type="module">
      const w = new Worker('iso-worker.js', { type: 'module' });
      w.onerror = (e) => fetch('/result', { method: 'POST', body: JSON.stringify({ error: e.message }) });
      document.body.textContent = 'RESULT ' + (await (await fetch('/wait')).text());
    </script></body></html>`;
      let posted: string | null = null;
      const waiting: (() => void)[] = [];
      const server = createServer((req, res) => {
        const file = req.url === '/iso-worker.js' ? 'iso-worker.js' : null;
        res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
        res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
        if (req.url === '/result') {
          let body = '';
          req.on('data', (d) => (body += d));
          req.on('end', () => {
            posted = body;
            res.end('ok');
            for (const w of waiting.splice(0)) w();
          });
        } else if (req.url === '/wait') {
          const answer = () => res.end(posted ?? '{}');
          if (posted) answer();
          else waiting.push(answer);
        } else if (file) {
          res.setHeader('Content-Type', 'text/javascript');
          res.end(readFileSync(join(work, file)));
        } else {
          res.setHeader('Content-Type', 'text/html');
          res.end(html);
        }
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as { port: number }).port;
      try {
        const { stdout: dom } = await promisify(execFile)(
          chromium,
          [
            ...CHROMIUM_ARGS,
            '--virtual-time-budget=20000',
            `--user-data-dir=${join(work, 'chromium-profile-iso')}`,
            '--dump-dom',
            `http://127.0.0.1:${port}/`,
          ],
          { encoding: 'utf8', timeout: 60_000 },
        );
        expect(posted, `no result from the worker; the page: ${dom.slice(0, 300)}`).not.toBeNull();
        const out = JSON.parse(posted!);
        expect(dom).toContain('RESULT {');
        expect(out).toMatchObject({ isolated: true, threads: 2, same: true, variant: 'relaxed-simd' });
        expect(out.auto).toBeGreaterThanOrEqual(1);
        expect(Number.isFinite(out.first)).toBe(true);
      } finally {
        server.close();
      }
    },
  );
});
