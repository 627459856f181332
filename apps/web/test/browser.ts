// Shared by the browser tests and scripts/perf.mjs's documentation: find Debian's Chromium, launch it headless with
// the flags that work on this machine, serve dist/ on a free port (as the dev server, or as a plain static host
// under a sub-path), build the site when asked, and draw on the pad.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { serve } from '../scripts/serve.mjs';

export const WEB_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = join(WEB_ROOT, '..', '..');
export { CHROMIUM, CHROMIUM_ARGS, missingBrowser } from '../../../chromium.shared.mjs';
import { CHROMIUM, CHROMIUM_ARGS } from '../../../chromium.shared.mjs';

export function buildSite(): void {
  execFileSync(process.execPath, [join(WEB_ROOT, 'scripts', 'build.mjs')], { cwd: WEB_ROOT, stdio: 'inherit' });
}

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS], headless: true });
}

/** Builds dist/ unless MNIST_WEB_PREBUILT is set (the whole suite builds once). */
export function buildSiteOnce(): void {
  if (!process.env.MNIST_WEB_PREBUILT) buildSite();
}

/**
 * Serves dist/ on a free port: by default as the dev server does (with COOP/COEP); `{ prefix, isolation: false }`
 * as a plain static host would, under a sub-path and without those headers. close() also drops open connections,
 * so the site is really gone (the offline tests stop it).
 */
export async function startServer(
  options: { prefix?: string; isolation?: boolean } = {},
): Promise<{ url: string; close: () => Promise<void> }> {
  const { server, url } = await serve(join(WEB_ROOT, 'dist'), { port: 0, ...options });
  return {
    url,
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** One mouse stroke through points in the pad's own 280 x 280 coordinates (the pad may be drawn smaller). */
export async function stroke(page: Page, points: Array<[number, number]>): Promise<void> {
  const box = (await page.getByTestId('draw').boundingBox())!;
  const at = ([x, y]: [number, number]) => [box.x + (x / 280) * box.width, box.y + (y / 280) * box.height] as const;
  await page.mouse.move(...at(points[0]!));
  await page.mouse.down();
  for (const p of points.slice(1)) await page.mouse.move(...at(p), { steps: 4 });
  await page.mouse.up();
}

/** A vertical stroke down the middle of the pad: the bundled model reads it as a 1. */
export const ONE: Array<[number, number]> = [
  [140, 40],
  [140, 240],
];

/** Clears the pad, draws the strokes and returns the digit predicted for them. */
export async function drawAndPredict(page: Page, strokes: Array<Array<[number, number]>>): Promise<number> {
  await page.getByRole('button', { name: 'Clear' }).click();
  await page.waitForFunction(() => document.querySelector('[data-testid=prediction]')?.textContent === '–');
  for (const s of strokes) await stroke(page, s);
  // The prediction follows the strokes within a frame or two; wait until the drawn input is the one predicted.
  await page.waitForFunction(() => document.querySelector('[data-testid=prediction]')?.hasAttribute('data-digit'));
  await page.waitForTimeout(150);
  return Number(await page.getByTestId('prediction').getAttribute('data-digit'));
}
