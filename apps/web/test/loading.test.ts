// How the page loads and draws without long main-thread tasks (issue 15, item 5), checked by structure, not by time
// (scripts/perf.mjs measures the times): main.js holds only the first screen, its chunks are preloaded beside it,
// @mnist/viz (Plot, d3, pako) and the other views load only once the first model is in, the views draw in tasks after
// the tab switch, and the big figures' pixels are encoded in the PNG worker, the weight tiles without a hit area per
// tile under the keyboard grid.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSiteOnce, launch, missingBrowser, startServer, stroke, ONE, WEB_ROOT } from './browser.js';

const missing = missingBrowser();
if (missing && process.env.CI) throw new Error(`browser tests cannot run in CI: ${missing}`);
if (missing) console.warn(`skipping the browser tests: ${missing}`);

const DIST = join(WEB_ROOT, 'dist');

describe('the built page', () => {
  beforeAll(() => buildSiteOnce());
  const main = () => readFileSync(join(DIST, 'main.js'), 'utf8');

  it("keeps Plot, d3 and pako out of main.js: it is the first screen's code only", () => {
    const viz = readdirSync(join(DIST, 'chunks')).find((f) => /^dist-.*\.js$/.test(f))!;
    const vizCode = readFileSync(join(DIST, 'chunks', viz), 'utf8');
    // strings of Plot (its style class), d3-scale-chromatic (the RdBu scheme) and pako (a zlib message)
    const markers = ['plot-d6a7b5', '67001fb2182bd6604df4a582', 'need dictionary'];
    for (const marker of markers) {
      expect(vizCode).toContain(marker);
      expect(main()).not.toContain(marker);
    }
    expect(statSync(join(DIST, 'main.js')).size).toBeLessThan(40_000);
  });

  it('preloads the chunks main.js imports, and compiles them as they stream in (V8 compile hint)', () => {
    const imported = [...main().matchAll(/from\s*"\.\/(chunks\/[^"]+\.js)"/g)].map((m) => m[1]);
    expect(imported.length).toBeGreaterThan(0);
    const html = readFileSync(join(DIST, 'index.html'), 'utf8');
    const preloaded = [...html.matchAll(/<link rel="modulepreload" href="([^"]+)">/g)].map((m) => m[1]);
    expect(preloaded.sort()).toEqual([...new Set(imported)].sort());
    for (const file of ['main.js', ...readdirSync(join(DIST, 'chunks')).map((f) => `chunks/${f}`)])
      if (file.endsWith('.js'))
        expect(readFileSync(join(DIST, file), 'utf8').startsWith('//# allFunctionsCalledOnLoad')).toBe(true);
  });
});

describe.skipIf(missing !== undefined)('loading in Chromium', () => {
  let browser: Browser, page: Page, server: Awaited<ReturnType<typeof startServer>>;
  /** When each of the page's own files started downloading, by path, and when the first model was in. */
  const timeline = (p: Page) =>
    p.evaluate(() => ({
      ready: performance.getEntriesByName('model-ready')[0]!.startTime,
      files: (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).map(
        (e) => [new URL(e.name).pathname.slice(1), e.startTime, e.responseEnd] as [string, number, number],
      ),
    }));

  beforeAll(async () => {
    buildSiteOnce();
    server = await startServer();
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('predicts before loading viz; viz and the other views follow once the first model is in', async () => {
    await page.goto(server.url);
    await stroke(page, ONE);
    await page.waitForFunction(() => performance.getEntriesByName('first-prediction').length > 0);
    // the prediction's figures, then the other views (one per idle period)
    await page.locator('#view-draw [data-testid=probabilities] svg').waitFor();
    await page.waitForFunction(() =>
      ['explain', 'testset', 'weights', 'train'].every((view) =>
        performance.getEntriesByType('resource').some((e) => new RegExp(`/chunks/${view}-`).test(e.name)),
      ),
    );
    const { ready, files } = await timeline(page);
    const later = files.filter(([file]) => /^chunks\/(dist|explain|testset|weights|train)-/.test(file));
    expect(later.map(([file]) => file.replace(/-\w+\.js$/, '')).sort()).toEqual(
      ['chunks/dist', 'chunks/explain', 'chunks/testset', 'chunks/train', 'chunks/weights'].sort(),
    );
    for (const [file, start] of later) expect(start, file).toBeGreaterThan(ready);
    // main.js's own chunks were asked for before main.js had even arrived (modulepreload), not after it was parsed
    const main = readFileSync(join(DIST, 'main.js'), 'utf8');
    const imported = [...main.matchAll(/from\s*"\.\/(chunks\/[^"]+\.js)"/g)].map((m) => m[1]);
    const mainEnd = files.find(([file]) => file === 'main.js')![2];
    const preloaded = files.filter(([f]) => imported.includes(f));
    expect(preloaded).toHaveLength(new Set(imported).size);
    for (const [file, start] of preloaded) expect(start, file).toBeLessThan(mainEnd);
    // nothing of the Draw view's figures is left waiting
    expect(await page.locator('#view-draw .figure-pending').count()).toBe(0);
  });

  it('draws the weight tiles from a PNG made in the PNG worker, with the keyboard grid and no hit area per tile', async () => {
    await page.click('#tab-weights');
    await page.locator('#view-weights [role=grid] [role=gridcell]').first().waitFor();
    const { files } = await timeline(page);
    expect(files.map(([file]) => file)).toContain('png-worker.js');
    expect(await page.locator('#view-weights [role=gridcell]').count()).toBe(512);
    const tiles = page.locator('#view-weights .tiles svg').first();
    expect(await tiles.locator('image').first().getAttribute('href')).toMatch(/^data:image\/png;base64,/);
    expect(await tiles.locator('[data-unit]').count()).toBe(0);
    // the matrices' heatmaps arrive in tasks of their own, from the same worker
    await page.waitForFunction(() => !document.querySelector('#view-weights .figure-pending'));
    expect(await page.locator('#view-weights .maps > svg').count()).toBe(4); // fc1 and fc2: weight and bias
  });
});
