// Performance of the web app in headless Chromium, served locally (a script, not a test; numbers go in BENCHMARKS.md):
//   1. navigation -> first prediction: a stroke is drawn as soon as the page has parsed, and the clock stops when
//      the first prediction is on screen (performance.mark in the page; includes worker start, fetching and parsing
//      the default .pth, compiling the WASM and the forward pass). Cold browser context each run.
//   2. whole-test-set evaluation: 10,000 MNIST test digits through the network in WASM (time measured in the worker),
//      first the cold path (fetch + gunzip + parse the IDX data, then evaluate), then warm re-evaluations.
//   3. responsiveness: the longest main-thread task while a model loads and while training runs (PerformanceObserver).
//   4. one-step explanation of a drawn digit: worker round trip (input gradient) + saliency overlay render, per method
//      (scripts/perf-explain.mjs).
// Usage: node scripts/perf.mjs [--runs N]   (builds dist/ first unless --no-build; needs /usr/bin/chromium)
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import { chromium } from 'playwright-core';
import { serve } from './serve.mjs';
import { explanationLines, measureExplanation } from './perf-explain.mjs';
import { CHROMIUM, CHROMIUM_ARGS } from '../../../chromium.shared.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const RUNS = arg('--runs', 7);

if (!process.argv.includes('--no-build'))
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
const { server, url } = await serve(join(root, 'dist'), { port: 0 });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (xs) =>
  `${median(xs).toFixed(0).padStart(5)} ms  (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)}, n=${xs.length})`;

/** Long tasks (> 50 ms) on the main thread, collected from page start. */
const observeLongTasks = () => {
  window.__longTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longTasks.push(e.duration);
  }).observe({ type: 'longtask', buffered: true });
};

async function stroke(page) {
  const box = await page.getByTestId('draw').boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height * 0.15);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height * 0.85, { steps: 6 });
  await page.mouse.up();
}

// 1. navigation -> first prediction, cold context each run
const first = [],
  ready = [],
  dcl = [],
  loadTasks = [];
for (let run = 0; run < RUNS; run++) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  await page.addInitScript(observeLongTasks);
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  await stroke(page);
  await page.waitForFunction(() => performance.getEntriesByName('first-prediction').length > 0, null, {
    timeout: 20_000,
  });
  const t = await page.evaluate(() => ({
    first: performance.getEntriesByName('first-prediction')[0].startTime,
    ready: performance.getEntriesByName('model-ready')[0].startTime,
    dcl: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd,
    longest: Math.max(0, ...window.__longTasks),
  }));
  first.push(t.first);
  ready.push(t.ready);
  dcl.push(t.dcl);
  loadTasks.push(t.longest);
  await context.close();
}

// 2. test-set evaluation: cold (data download + inflate + parse + evaluate), then warm re-evaluations
const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
const page = await context.newPage();
await page.addInitScript(observeLongTasks);
await page.goto(url);
await page.waitForFunction(() => performance.getEntriesByName('model-ready').length > 0);
const t0 = Date.now();
await page.click('.tabs button[data-view=test]');
await page.waitForFunction(() => document.querySelector('[data-testid=test-accuracy]')?.dataset.ms);
const coldTotal = Date.now() - t0;
const evalMs = [Number(await page.getByTestId('test-accuracy').getAttribute('data-ms'))];
const accuracy = await page.getByTestId('test-accuracy').textContent();
const modelBytes = readFileSync(join(root, '..', '..', 'models', 'mnist_model.pth'));
const warmTotal = [];
for (let run = 0; run < RUNS - 1; run++) {
  // Loading a model re-evaluates the test set (the data is cached in the worker by now).
  await page.evaluate(() => {
    delete document.querySelector('[data-testid=test-accuracy]').dataset.ms;
  });
  const t1 = Date.now();
  await page
    .getByTestId('model-file')
    .setInputFiles({ name: `mnist_model_${run}.pth`, mimeType: 'application/octet-stream', buffer: modelBytes });
  await page.waitForFunction(() => document.querySelector('[data-testid=test-accuracy]')?.dataset.ms);
  warmTotal.push(Date.now() - t1);
  evalMs.push(Number(await page.getByTestId('test-accuracy').getAttribute('data-ms')));
}

// 3. main-thread responsiveness while training (784-512-10, batch 64, 3 epochs) for ~3 s
await page.click('.tabs button[data-view=train]');
await page.getByTestId('train-hidden').fill('512');
await page.getByTestId('train-epochs').fill('3');
await page.evaluate(() => {
  window.__longTasks = [];
});
await page.getByTestId('train').click();
await page.waitForFunction(
  () => /^Step/.test(document.querySelector('[data-testid=train-status]')?.textContent ?? ''),
  null,
  { timeout: 30_000 },
);
await page.waitForTimeout(3000);
const trainStatus = await page.getByTestId('train-status').textContent();
const trainTasks = await page.evaluate(() => Math.max(0, ...window.__longTasks));
if (await page.getByTestId('train-stop').isEnabled()) await page.getByTestId('train-stop').click();
await context.close();

// 4. one-step explanation of a drawn digit (saliency overlay), in its own context
const explanation = await measureExplanation(browser, url, { repeats: 200 });
await browser.close();
server.close();

const version = browser.version();
console.log(
  `\nweb app performance: headless Chromium ${version}, ${cpus().length} x ${cpus()[0]?.model}, served from 127.0.0.1`,
);
console.log(`  DOMContentLoaded                      ${fmt(dcl)}`);
console.log(`  default model ready (worker + parse)  ${fmt(ready)}`);
console.log(`  navigation -> first prediction        ${fmt(first)}   target <= 1000 ms`);
console.log(
  `  longest main-thread task while loading ${median(loadTasks).toFixed(0)} ms (median of runs; 0 = none over 50 ms)`,
);
console.log(`  test set (${accuracy}): evaluate 10,000 in WASM ${fmt(evalMs.slice(1))}   target <= 500 ms`);
console.log(
  `    first evaluation in the worker       ${evalMs[0].toFixed(0)} ms; cold click -> accuracy shown ${coldTotal} ms (fetch 1.6 MB gz + inflate + parse + evaluate + draw)`,
);
console.log(`    warm: model upload -> accuracy shown ${fmt(warmTotal)}`);
console.log(`  training: ${trainStatus}`);
console.log(`    longest main-thread task while training ${trainTasks.toFixed(0)} ms (0 = none over 50 ms)`);
console.log('  one-step explanation of a drawn digit (median, p10, p90)   target: gradient < 20 ms');
for (const line of explanationLines(explanation)) console.log(line);
