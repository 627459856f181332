// Performance of the web app in headless Chromium, served locally (a script, not a test; numbers go in BENCHMARKS.md):
//   1. navigation -> first prediction: a stroke is drawn as soon as the pad is on the page, and the clock stops when
//      the first prediction is on screen (performance.mark in the page; includes worker start, fetching and parsing
//      the default .pth, compiling the WASM and the forward pass). Cold browser context each run. Also the longest
//      main-thread task until then, and until the page has settled (figures, the other views, the service worker).
//   2. whole-test-set evaluation: 10,000 MNIST test digits through the network in WASM (time measured in the worker),
//      first the cold path (fetch + gunzip + parse the IDX data, then evaluate), then warm re-evaluations.
//   3. responsiveness: the longest main-thread task (PerformanceObserver longtask, > 50 ms) during each interaction
//      (drawing, each tab shown for the first time, a weight tile opened, a page of test digits, a test digit
//      explained) and while training runs.
//   4. one-step explanation of a drawn digit: worker round trip (input gradient) + saliency overlay render, per method
//      (scripts/perf-explain.mjs).
// Usage: node scripts/perf.mjs [--runs N] [--busy N] [--no-build] [--dist DIR]   (needs /usr/bin/chromium)
//   --busy N: N busy loops (one per core: `--busy $(nproc)`) keep the CPU busy for the whole measurement, as
//   scripts/test-under-load.sh does, for "with both cores busy".
//   --dist DIR: measure another build of the site (e.g. an earlier commit's dist/, for a before/after), unbuilt.
//
// Every interaction is driven through page.mouse and CDP's Runtime.evaluate, never Playwright's locators or
// page.evaluate: their first use injects Playwright's own scripts into the page, each a 20-100 ms main-thread task
// that is not the app's.
// Each context waits 2.5 s before navigating: Chromium (>= 151) renders its address-bar popup (a WebUI page) in every
// new window, about 1 CPU-second, which would otherwise compete with the page on these 2 cores; a real browser
// window already has it.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
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
const BUSY = arg('--busy', 0);
/** How long a new window is left alone before navigating (see above), and how long the page has to settle. */
const WINDOW_SETTLE_MS = 2500;
const PAGE_SETTLE_MS = 2500;

const distArg = process.argv.indexOf('--dist');
const dist = distArg > 0 ? process.argv[distArg + 1] : join(root, 'dist');
if (distArg < 0 && !process.argv.includes('--no-build'))
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
const { server, url } = await serve(dist, { port: 0 });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });

const busy = Array.from({ length: BUSY }, () =>
  spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore', detached: false }),
);
const stopBusy = () => {
  for (const child of busy) child.kill();
};
process.on('exit', stopBusy);
const loadBefore = loadavg();
const started = new Date();

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (xs) =>
  `${median(xs).toFixed(0).padStart(5)} ms  (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)}, n=${xs.length})`;

/** Long tasks (> 50 ms) on the main thread, [start, duration], collected from page start. */
const observeLongTasks = () => {
  window.__longTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.duration]);
  }).observe({ type: 'longtask', buffered: true });
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A page and `js(expression)`, which evaluates a JavaScript expression in it over CDP (Runtime.evaluate, awaiting a
 * promise) and returns its value: Playwright's page.evaluate would first inject its own helper script into the page,
 * a main-thread task of its own.
 */
async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  await page.waitForTimeout(WINDOW_SETTLE_MS);
  await page.addInitScript(observeLongTasks);
  const cdp = await context.newCDPSession(page);
  const js = async (expression) => {
    const r = await cdp.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error(`${expression}: ${r.exceptionDetails.exception?.description}`);
    return r.result.value;
  };
  return { context, page, js };
}
/** Polls `expression` until it is truthy. */
async function until(js, expression, timeout = 60_000) {
  const t0 = Date.now();
  while (!(await js(expression).catch(() => false))) {
    if (Date.now() - t0 > timeout) throw new Error(`timed out after ${timeout} ms waiting for ${expression}`);
    await sleep(20);
  }
}
/** The longest task since the last call (0 when none was over 50 ms). */
const longest = async (js) => {
  await sleep(100); // the observer reports a task after it ends
  return js('Math.max(0, ...window.__longTasks.splice(0).map(([, d]) => d))');
};
/** The on-screen box of the first element matching `selector`, scrolled into view (null when there is none yet). */
const box = (js, selector) =>
  js(`(() => {
    const element = document.querySelector(${JSON.stringify(selector)});
    element?.scrollIntoView({ block: 'nearest', behavior: 'instant' });
    const r = element?.getBoundingClientRect();
    return r && r.width > 0 ? { x: r.x, y: r.y, width: r.width, height: r.height } : null;
  })()`);
async function click({ page, js }, selector, fx = 0.5, fy = 0.5) {
  await until(js, `document.querySelector(${JSON.stringify(selector)})?.getBoundingClientRect().width > 0`);
  const b = await box(js, selector);
  await page.mouse.click(b.x + b.width * fx, b.y + b.height * fy);
}
/** A stroke on the pad from (x0, y0) to (x1, y1), in fractions of its size. */
async function stroke({ page, js }, [x0, y0], [x1, y1]) {
  const b = await box(js, '[data-testid=draw]');
  await page.mouse.move(b.x + b.width * x0, b.y + b.height * y0);
  await page.mouse.down();
  await page.mouse.move(b.x + b.width * x1, b.y + b.height * y1, { steps: 8 });
  await page.mouse.up();
}
const mark = (name) => `performance.getEntriesByName('${name}').length > 0`;
const at = (name) => `performance.getEntriesByName('${name}')[0].startTime`;

// 1. navigation -> first prediction, cold context each run
const first = [],
  ready = [],
  dcl = [],
  tasksToFirst = [],
  tasksLoading = [];
for (let run = 0; run < RUNS; run++) {
  const p = await newPage();
  await p.page.goto(url, { waitUntil: 'commit' });
  await until(p.js, `document.querySelector('[data-testid=draw]')?.getBoundingClientRect().width > 0`);
  await stroke(p, [0.5, 0.15], [0.5, 0.85]);
  await until(p.js, mark('first-prediction'));
  tasksToFirst.push(await p.js('Math.max(0, ...window.__longTasks.map(([, d]) => d))'));
  await sleep(PAGE_SETTLE_MS);
  first.push(await p.js(at('first-prediction')));
  ready.push(await p.js(at('model-ready')));
  dcl.push(await p.js(`performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd`));
  tasksLoading.push(await longest(p.js));
  await p.context.close();
}

// 2 and 3. one page: each interaction, the test set cold then warm, training
const one = await newPage();
const { context, page, js } = one;
await page.goto(url);
await until(js, mark('model-ready'));
await sleep(PAGE_SETTLE_MS);
await longest(js);
const interactions = [];
const measure = async (name, action) => {
  await action();
  await sleep(500);
  interactions.push([name, await longest(js)]);
};
const accuracyData = (key) => `document.querySelector('[data-testid=test-accuracy]')?.dataset.${key}`;
await measure('drawing (a 7, predicted while drawn)', async () => {
  await stroke(one, [0.25, 0.2], [0.75, 0.2]);
  await stroke(one, [0.75, 0.2], [0.45, 0.85]);
});
await measure('Explain tab', async () => {
  await click(one, '#tab-explain');
  await until(js, `document.querySelectorAll('#view-explain .explain-body svg').length > 4`);
});
const t0 = Date.now();
await measure('Test set tab (download, evaluate, draw)', async () => {
  await click(one, '#tab-test');
  await until(js, accuracyData('ms'));
  await until(js, `document.querySelector('#view-test [role=grid]')`);
});
const coldTotal = Date.now() - t0 - 600;
const evalMs = [Number(await js(accuracyData('ms')))];
const accuracy = await js(`document.querySelector('[data-testid=test-accuracy]').textContent`);
await measure('next page of test digits', () => click(one, '#view-test .row button:nth-of-type(2)'));
await measure('a test digit explained', async () => {
  await click(one, '#view-test [role=gridcell]');
  await until(js, `location.hash === '#explain'`);
});
await measure('Weights tab', async () => {
  await click(one, '#tab-weights');
  await until(js, `document.querySelector('#view-weights [role=grid]')`);
  await until(js, `!document.querySelector('#view-weights .figure-pending')`);
});
await measure('a weight tile opened', async () => {
  await click(one, '#view-weights .tiles [role=grid]', 5.5 / 32, 1.5 / 16);
  await until(js, `document.querySelector('#view-weights .unit-detail h3')?.textContent === 'Unit #37'`);
});
await measure('Train tab', () => click(one, '#tab-train'));
await measure('back to Draw', () => click(one, '#tab-draw'));

// model upload -> accuracy re-shown (the data is cached in the worker by now)
await click(one, '#tab-test');
const modelBytes = readFileSync(join(root, '..', '..', 'models', 'mnist_model.pth'));
const warmTotal = [];
for (let run = 0; run < RUNS - 1; run++) {
  await js(`delete document.querySelector('[data-testid=test-accuracy]').dataset.ms`);
  const t1 = Date.now();
  await page.setInputFiles('[data-testid=model-file]', {
    name: `mnist_model_${run}.pth`,
    mimeType: 'application/octet-stream',
    buffer: modelBytes,
  });
  await until(js, accuracyData('ms'));
  warmTotal.push(Date.now() - t1);
  evalMs.push(Number(await js(accuracyData('ms'))));
}
await sleep(500);
await longest(js); // (setInputFiles injects Playwright's selector engine: not counted)

// training 784-512-10, batch 64, 3 epochs, for ~3 s
await click(one, '#tab-train');
await js(`(() => {
  for (const [id, value] of [['train-hidden', '512'], ['train-epochs', '3']]) {
    const input = document.querySelector('[data-testid=' + id + ']');
    input.value = value;
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.dispatchEvent(new Event('change', { bubbles: true }));
  }
})()`);
await sleep(200);
await longest(js);
await click(one, '[data-testid=train]');
await until(js, `/^Step/.test(document.querySelector('[data-testid=train-status]')?.textContent ?? '')`);
await sleep(3000);
const trainStatus = await js(`document.querySelector('[data-testid=train-status]').textContent`);
const trainTask = await longest(js);
await js(`document.querySelector('[data-testid=train-stop]')?.click()`);
await context.close();

// 4. one-step explanation of a drawn digit (saliency overlay), in its own context
const explanation = await measureExplanation(browser, url, { repeats: 200 });
const loadAfter = loadavg();
stopBusy();
await browser.close();
server.close();

const version = browser.version();
const loads = (l) => l.map((x) => x.toFixed(1)).join(' / ');
console.log(
  `\nweb app performance: headless Chromium ${version}, ${cpus().length} x ${cpus()[0]?.model}, served from 127.0.0.1`,
);
console.log(
  `  ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${BUSY ? `${BUSY} busy loops running, ` : ''}` +
    `load average ${loads(loadBefore)} before, ${loads(loadAfter)} after`,
);
console.log(`  DOMContentLoaded                      ${fmt(dcl)}`);
console.log(`  default model ready (worker + parse)  ${fmt(ready)}`);
console.log(`  navigation -> first prediction        ${fmt(first)}   target <= 1000 ms (idle), <= 2000 ms (busy)`);
const tasks = (xs) =>
  `median ${median(xs).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms (0 = none over 50 ms, n=${xs.length})`;
console.log(`  longest main-thread task until the first prediction   ${tasks(tasksToFirst)}`);
console.log(`  longest main-thread task while loading (until settled) ${tasks(tasksLoading)}`);
console.log(`  test set (${accuracy}): evaluate 10,000 in WASM ${fmt(evalMs.slice(1))}   target <= 500 ms`);
console.log(
  `    first evaluation in the worker       ${evalMs[0].toFixed(0)} ms; cold click -> accuracy and digits shown ${coldTotal} ms (fetch 1.6 MB gz + inflate + parse + evaluate + draw)`,
);
console.log(`    warm: model upload -> accuracy shown ${fmt(warmTotal)}`);
console.log('  longest main-thread task during each interaction (0 = none over 50 ms)');
for (const [name, ms] of interactions) console.log(`    ${name.padEnd(42)} ${ms.toFixed(0).padStart(4)} ms`);
console.log(`  training: ${trainStatus}`);
console.log(`    longest main-thread task while training ${trainTask.toFixed(0)} ms (0 = none over 50 ms)`);
console.log('  one-step explanation of a drawn digit (median, p10, p90)   target: gradient < 20 ms');
for (const line of explanationLines(explanation)) console.log(line);
