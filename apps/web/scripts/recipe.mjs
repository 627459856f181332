// The 99% recipe (TRAIN_RECIPES.best, the Train tab's Recipe chooser) run whole in headless Chromium: the page's own
// training from "Train" to the download button, timed, its status line, the downloaded model saved, and optionally
// compared byte for byte with the CLI's file of the same seed (`mnist train --recipe best --seed S`). A script, not a
// test (a run takes minutes): the numbers go in BENCHMARKS.md.
//   node scripts/recipe.mjs [--seed S] [--out F.pth] [--compare cli.pth] [--no-build]
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../../../chromium.shared.mjs';
import { serve } from './serve.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, otherwise) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : otherwise;
};
const seed = arg('--seed', '1');
const out = arg('--out', join(root, 'test-results', `recipe-best-seed${seed}.pth`));
const compare = arg('--compare', null);
if (!/^\d+$/.test(seed)) throw new Error(`--seed: expected an integer, got ${seed}`);

if (!process.argv.includes('--no-build'))
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
const { server, url } = await serve(join(root, 'dist'), { port: 0 });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForFunction(() => performance.getEntriesByName('model-ready').length > 0);
  await page.click('.tabs button[data-view=train]');
  await page.getByTestId('train-recipe').selectOption('best');
  await page.getByTestId('train-seed').fill(seed);
  await page.getByTestId('train-seed').dispatchEvent('change');
  const load = loadavg().map((l) => l.toFixed(1));
  const t0 = Date.now();
  await page.getByTestId('train').click();
  await page.getByTestId('download').waitFor({ state: 'visible', timeout: 30 * 60_000 });
  const seconds = (Date.now() - t0) / 1000;
  const status = await page.getByTestId('train-status').textContent();
  const plan = await page.getByTestId('train-plan').textContent();
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download').click()]);
  const bytes = readFileSync(await file.path());
  writeFileSync(out, bytes);
  console.log(
    `the recipe in headless Chromium ${browser.version()}, ${cpus().length} x ${cpus()[0]?.model}, load at the start ${load.join(' / ')}`,
  );
  console.log(`  plan: ${plan}`);
  console.log(`  status: ${status}`);
  console.log(
    `  Train -> download button: ${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s (the training data's download and parse included)`,
  );
  console.log(`  wrote ${out}`);
  if (compare) console.log(`  same bytes as ${compare}: ${readFileSync(compare).equals(bytes) ? 'yes' : 'NO'}`);
  if (errors.length) console.log(`  page errors: ${errors.join('; ')}`);
} finally {
  await browser.close();
  server.close();
}
