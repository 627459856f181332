// The built site on any static host (issue 15), in Debian's Chromium: served under a sub-path by a plain static
// server that sends no COOP/COEP headers, the app's service worker adds them and the page reloads once into a
// cross-origin-isolated state where the engine runs more than one thread; the shell, the default model and the test
// set are cached at the first visit and the training data once downloaded, so with the server stopped and the
// network off the app reloads, draws, predicts, shows the test set and the weights, and trains. Chromium finds the
// app installable (manifest, icons, service worker). Where no service worker can run, the app runs on one thread as before.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildSiteOnce,
  CHROMIUM,
  CHROMIUM_ARGS,
  drawAndPredict,
  launch,
  missingBrowser,
  ONE,
  startServer,
  WEB_ROOT,
} from './browser.js';

const missing = missingBrowser();
if (missing && process.env.CI) throw new Error(`browser tests cannot run in CI: ${missing}`);
if (missing) console.warn(`skipping the browser tests: ${missing}`);

const PREFIX = '/some/sub/path/';

const summaryText = (page: Page) => page.getByTestId('model-summary').textContent();
/** The thread count the engine reports in the model summary ("WASM relaxed-simd, 2 threads"). */
async function threads(page: Page): Promise<number> {
  await expect.poll(() => summaryText(page)).toMatch(/\d+ threads?/);
  return Number(/(\d+) threads?/.exec((await summaryText(page))!)![1]);
}

/** Every cache of the page's origin: name → the paths it holds. */
function cacheContents(page: Page): Promise<Record<string, string[]>> {
  return page.evaluate(async () => {
    const out: Record<string, string[]> = {};
    for (const name of await caches.keys())
      out[name] = (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname).sort();
    return out;
  });
}

/** A short training run from the Train tab (784-16-10, 600 images, one epoch); resolves when it offers the download. */
async function trainBriefly(page: Page): Promise<void> {
  await page.click('#tab-train');
  for (const [name, value] of Object.entries({ hidden: '16', images: '600', epochs: '1' }))
    await page.getByTestId(`train-${name}`).fill(value);
  await page.getByTestId('train-validation').selectOption('0');
  await page.getByTestId('train').click();
  await page.getByTestId('download').waitFor({ state: 'visible', timeout: 120_000 });
}

describe.skipIf(missing !== undefined)('the built site on a plain static host, offline', () => {
  let browser: Browser, context: BrowserContext, page: Page;
  let server: Awaited<ReturnType<typeof startServer>>;
  const requests: string[] = [];
  const failures: string[] = [];
  const errors: string[] = [];
  let navigations = 0;

  beforeAll(async () => {
    buildSiteOnce();
    server = await startServer({ prefix: PREFIX, isolation: false });
    browser = await launch();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    context.on('request', (r) => requests.push(r.url()));
    context.on('response', (r) => {
      if (r.status() >= 400) failures.push(`${r.status()} ${r.url()}`);
    });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('load', () => navigations++); // document loads: the hash routing's history entries are not counted
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('runs under a sub-path without COOP/COEP, and reloads once into cross-origin isolation with threads', async () => {
    const first = await page.goto(server.url);
    expect(new URL(server.url).pathname).toBe(PREFIX);
    expect(first!.headers()['cross-origin-embedder-policy']).toBeUndefined();
    expect(first!.headers()['cross-origin-opener-policy']).toBeUndefined();
    // The service worker takes control and the page reloads once, through it.
    await expect
      .poll(() => page.evaluate(() => crossOriginIsolated).catch(() => false), { timeout: 60_000 })
      .toBe(true);
    await expect.poll(() => navigations).toBe(2); // the first load and the one reload
    expect(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toBe(`${server.url}sw.js`);
    expect(await threads(page)).toBeGreaterThan(1);
    expect(await drawAndPredict(page, [ONE])).toBe(1);
    // Every request stayed under the sub-path, and none failed.
    const http = requests.filter((url) => url.startsWith('http')); // (the engine's thread workers start from blob: URLs)
    expect(http.length).toBeGreaterThan(5);
    expect(http.filter((url) => !new URL(url).pathname.startsWith(PREFIX))).toEqual([]);
    expect(failures).toEqual([]);
    expect(errors).toEqual([]);
    await page.waitForTimeout(1000);
    expect(navigations).toBe(2); // and only once
  });

  it('has cached the app shell, the default model and the test set; the training data once downloaded', async () => {
    const shell = (cache: Record<string, string[]>) =>
      Object.entries(cache).find(([name]) => name.startsWith('mnist-shell-'))!;
    const data = (cache: Record<string, string[]>) =>
      Object.entries(cache).find(([name]) => name.startsWith('mnist-data-'))!;
    let cache = await cacheContents(page);
    // the page's chunks too: the views and @mnist/viz are loaded when first wanted, offline as well
    const chunks = readdirSync(join(WEB_ROOT, 'dist', 'chunks'))
      .filter((file) => file.endsWith('.js'))
      .map((file) => `chunks/${file}`);
    expect(chunks.length).toBeGreaterThan(4);
    expect(shell(cache)[1]).toEqual(
      [
        '',
        ...chunks,
        'icons/icon-192.png',
        'icons/icon-512.png',
        'main.js',
        'manifest.webmanifest',
        'models/mnist_model.pth',
        'png-worker.js',
        'style.css',
        'worker.js',
      ]
        .map((p) => PREFIX + p)
        .sort(),
    );
    expect(data(cache)[1]).toEqual(
      ['data/t10k-images-idx3-ubyte.gz', 'data/t10k-labels-idx1-ubyte.gz'].map((p) => PREFIX + p),
    );
    await trainBriefly(page);
    await expect
      .poll(async () => data(await cacheContents(page))[1])
      .toEqual(
        [
          'data/t10k-images-idx3-ubyte.gz',
          'data/t10k-labels-idx1-ubyte.gz',
          'data/train-images-idx3-ubyte.gz',
          'data/train-labels-idx1-ubyte.gz',
        ].map((p) => PREFIX + p),
      );
    cache = await cacheContents(page);
    expect(Object.keys(cache)).toHaveLength(2);
  });

  it('works with the server stopped and the network off: reload, draw, predict, the test set, the weights, training', async () => {
    await page.click('#tab-draw');
    await server.close();
    await expect(fetch(server.url)).rejects.toThrow(); // the site is really gone
    await context.setOffline(true);
    await page.reload();
    await expect.poll(() => summaryText(page)).toContain('784 → 512 → 10');
    expect(await page.evaluate(() => [navigator.onLine, crossOriginIsolated])).toEqual([false, true]);
    expect(await threads(page)).toBeGreaterThan(1);
    expect(await drawAndPredict(page, [ONE])).toBe(1);
    await page.click('#tab-test');
    await expect.poll(() => page.getByTestId('test-accuracy').getAttribute('data-correct')).toBe('9784');
    await page.locator('#view-test [role=grid]').waitFor();
    await page.click('#tab-weights');
    await page.locator('#view-weights [role=grid] [role=gridcell]').first().waitFor();
    expect(await page.locator('#view-weights [role=gridcell]').count()).toBe(512);
    await trainBriefly(page); // from the cached training data
    expect(await page.getByTestId('train-status').textContent()).not.toContain('WEB_FETCH');
  });
});

describe.skipIf(missing !== undefined)('installable', () => {
  it('Chromium reads the manifest, finds nothing missing to install the app, and the icons load at their sizes', async () => {
    const server = await startServer({ prefix: PREFIX, isolation: false });
    // A profile on disk: Chromium does not offer to install from an off-the-record (incognito) one.
    const profile = mkdtempSync(join(tmpdir(), 'mnist-web-profile-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: [...CHROMIUM_ARGS],
      headless: true,
    });
    try {
      const page = await context.newPage();
      await page.goto(server.url);
      await expect
        .poll(() => page.evaluate(() => crossOriginIsolated).catch(() => false), { timeout: 60_000 })
        .toBe(true);
      const cdp = await context.newCDPSession(page);
      const manifest = (await cdp.send('Page.getAppManifest')) as { url: string; errors: unknown[]; data?: string };
      expect(manifest.url).toBe(`${server.url}manifest.webmanifest`);
      expect(manifest.errors).toEqual([]);
      const data = JSON.parse(manifest.data!) as {
        start_url: string;
        scope: string;
        icons: { src: string; sizes: string }[];
      };
      expect([data.start_url, data.scope]).toEqual(['./', './']);
      const sizes = await page.evaluate(
        (icons) =>
          Promise.all(
            icons.map(async ({ src }) => {
              const bitmap = await createImageBitmap(await (await fetch(src)).blob());
              return `${bitmap.width}x${bitmap.height}`;
            }),
          ),
        data.icons,
      );
      expect(sizes).toEqual(data.icons.map((i) => i.sizes));
      const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as {
        installabilityErrors: { errorId: string }[];
      };
      expect(installabilityErrors).toEqual([]);
    } finally {
      await context.close();
      await server.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });
});

describe.skipIf(missing !== undefined)('where no service worker can help', () => {
  it('runs on one thread, without reloading', async () => {
    const server = await startServer({ prefix: PREFIX, isolation: false });
    const browser = await launch();
    try {
      const context = await browser.newContext({ serviceWorkers: 'block' });
      const page = await context.newPage();
      let navigations = 0;
      page.on('load', () => navigations++);
      await page.goto(server.url);
      expect(await threads(page)).toBe(1);
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
      expect(await drawAndPredict(page, [ONE])).toBe(1);
      await page.waitForTimeout(1000);
      expect(navigations).toBe(1);
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
