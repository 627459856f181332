// Timing of a one-step explanation in the page (issue 14): one drawn digit, the Draw view's saliency overlay asked
// for again and again (the class select flips between the prediction and 3, so every request is a new one). Each
// time is the page's own performance.now() around the worker round trip (input gradient in WASM) and the overlay's
// render (the @mnist/viz figure built, inserted and laid out), read from the overlay's data-ms; data-worker-ms is the
// part inside the worker. A script, not a test: the numbers go in BENCHMARKS.md. scripts/perf.mjs runs it as its
// part 4; alone: node scripts/perf-explain.mjs [--repeats N] [--no-build]
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../../../chromium.shared.mjs';
import { serve } from './serve.mjs';

/** The methods timed, and the share of the repetitions each gets (the plain gradient is the one-step explanation). */
const METHODS = [
  ['gradient', 1],
  ['gradxinput', 0.25],
  ['smoothgrad', 0.25],
  ['integrated', 0.25],
];
/** Requests not counted at the start of each method (WASM tiers, Plot's first figures). */
const WARMUP = 10;

const SEVEN = [
  [70, 50],
  [210, 50],
  [180, 110],
  [150, 170],
  [125, 240],
];

async function drawSeven(page) {
  const box = await page.getByTestId('draw').boundingBox();
  const at = ([x, y]) => [box.x + (x / 280) * box.width, box.y + (y / 280) * box.height];
  await page.mouse.move(...at(SEVEN[0]));
  await page.mouse.down();
  for (const p of SEVEN.slice(1)) await page.mouse.move(...at(p), { steps: 4 });
  await page.mouse.up();
}

/** In the page: `n` overlay requests of `method`, each waited for; [total ms, worker ms] per request. */
async function repeatInPage({ method, n }) {
  const view = document.querySelector('#view-draw');
  const slot = view.querySelector('[data-testid=saliency]');
  const methodSelect = view.querySelector('[data-testid=saliency-method]');
  const classSelect = view.querySelector('[data-testid=saliency-class]');
  const next = (change) =>
    new Promise((resolve) => {
      const seq = slot.dataset.seq;
      const observer = new MutationObserver(() => {
        if (slot.dataset.seq === seq) return;
        observer.disconnect();
        resolve([Number(slot.dataset.ms), Number(slot.dataset.workerMs)]);
      });
      observer.observe(slot, { attributes: true, attributeFilter: ['data-seq'] });
      change();
    });
  await next(() => {
    methodSelect.value = method;
    methodSelect.dispatchEvent(new Event('change'));
  });
  const times = [];
  for (let i = 0; i < n; i++) {
    times.push(
      await next(() => {
        classSelect.value = i % 2 ? 'predicted' : '3';
        classSelect.dispatchEvent(new Event('change'));
      }),
    );
  }
  methodSelect.value = 'gradient';
  classSelect.value = 'predicted';
  return times;
}

/** Times of the explanation of one drawn digit per method: { method: { total: ms[], worker: ms[] } }. */
export async function measureExplanation(browser, url, { repeats = 200 } = {}) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForFunction(() => performance.getEntriesByName('model-ready').length > 0);
  await drawSeven(page);
  await page.waitForFunction(() => document.querySelector('#view-draw [data-testid=saliency]')?.dataset.seq);
  const results = {};
  for (const [method, share] of METHODS) {
    const n = WARMUP + Math.max(10, Math.round(repeats * share));
    const times = (await page.evaluate(repeatInPage, { method, n })).slice(WARMUP);
    results[method] = { total: times.map((t) => t[0]), worker: times.map((t) => t[1]) };
  }
  await context.close();
  return results;
}

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  const i = (s.length - 1) * q;
  return s[Math.floor(i)] + (s[Math.ceil(i)] - s[Math.floor(i)]) * (i - Math.floor(i));
};

/** The report's lines: median (p10–p90) of the total and of the worker's part, per method. */
export function explanationLines(results) {
  const f = (xs) =>
    `${quantile(xs, 0.5).toFixed(1).padStart(5)} ms (p10 ${quantile(xs, 0.1).toFixed(1)}, p90 ${quantile(xs, 0.9).toFixed(1)}, n=${xs.length})`;
  return Object.entries(results).map(
    ([method, r]) => `    ${method.padEnd(11)} round trip + overlay ${f(r.total)}   in the worker ${f(r.worker)}`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const i = process.argv.indexOf('--repeats');
  const repeats = i > 0 ? Number(process.argv[i + 1]) : 200;
  if (!process.argv.includes('--no-build'))
    execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  const { server, url } = await serve(join(root, 'dist'), { port: 0 });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
  const results = await measureExplanation(browser, url, { repeats });
  console.log(
    `\none-step explanation of a drawn digit: headless Chromium ${browser.version()}, ${cpus().length} x ${cpus()[0]?.model}, load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' / ')}`,
  );
  for (const line of explanationLines(results)) console.log(line);
  console.log('    target: gradient round trip + overlay < 20 ms');
  await browser.close();
  server.close();
}
