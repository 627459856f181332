// The web app on any screen and for everyone (issue 15), in Debian's Chromium: no horizontal overflow on any tab from
// 320 to 1920 px and no text under 12 px; on a phone the pad and the prediction on the first screen (the model panel a
// one-line summary that opens on tap) and drawing with real touch events without scrolling the page; zero serious or
// critical axe-core violations on every tab, light and dark; the WAI-ARIA tabs pattern; keyboard-only use of every
// tab and grid; the prediction in a polite live region; prefers-reduced-motion and prefers-color-scheme honoured.
// Screenshots of every tab at 390 and 1280 px go to test-results/ for a person to look at.
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSiteOnce, drawAndPredict, launch, missingBrowser, ONE, startServer, WEB_ROOT } from './browser.js';

const missing = missingBrowser();
if (missing && process.env.CI) throw new Error(`browser tests cannot run in CI: ${missing}`);
if (missing) console.warn(`skipping the browser tests: ${missing}`);

const RESULTS = join(WEB_ROOT, 'test-results');
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const WIDTHS = [320, 360, 390, 414, 768, 1280, 1920];
const TABS = ['draw', 'explain', 'test', 'weights', 'train'] as const;
type Tab = (typeof TABS)[number];

/** Shows a tab by clicking it and waits until its content is drawn. */
async function visit(page: Page, tab: Tab): Promise<void> {
  await page.click(`#tab-${tab}`);
  const ready: Record<Tab, string> = {
    draw: '#view-draw [data-testid=probabilities] svg',
    explain: '#view-explain .explain-body svg',
    test: '#view-test [role=grid]',
    weights: '#view-weights [role=grid]',
    train: '#view-train [data-testid=train]',
  };
  await page.locator(ready[tab]).first().waitFor();
  await page.waitForTimeout(250); // the view's entrance (0.18 s) and the figures' layout
}

/** Text in the page (outside the figures and visually hidden helpers) drawn smaller than 12 px. */
function smallText(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement!;
      if (!node.textContent!.trim() || parent.closest('svg, .visually-hidden, [hidden]')) continue;
      if (!parent.getClientRects().length) continue; // not rendered
      const size = Number.parseFloat(getComputedStyle(parent).fontSize);
      if (size < 12) out.push(`${size}px: ${node.textContent!.trim().slice(0, 40)}`);
    }
    return out;
  });
}

/** axe-core's serious and critical violations on the page as it is, one line each. */
async function axeViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: AXE });
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document): Promise<AxeResults> } }).axe;
    type AxeResults = { violations: { id: string; impact: string; nodes: { target: string[] }[] }[] };
    const { violations } = await axe.run(document);
    return violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}`);
  });
}

const active = (page: Page) =>
  page.evaluate(() => {
    const e = document.activeElement!;
    return {
      id: e.id,
      role: e.getAttribute('role'),
      label: e.getAttribute('aria-label'),
      testid: e.getAttribute('data-testid'),
    };
  });

/** Presses Tab until the focused element is a grid cell (at most `limit` presses); returns its label. */
async function tabToGrid(page: Page, limit = 15): Promise<string> {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    const a = await active(page);
    if (a.role === 'gridcell') return a.label!;
  }
  throw new Error(`no grid cell within ${limit} Tab presses`);
}

describe.skipIf(missing !== undefined)('the web app on any screen, by keyboard and screen reader', () => {
  let browser: Browser, server: Awaited<ReturnType<typeof startServer>>;

  beforeAll(async () => {
    buildSiteOnce();
    mkdirSync(RESULTS, { recursive: true });
    server = await startServer();
    browser = await launch();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** The app in a fresh context, with its default model loaded; console errors are collected. */
  async function open(
    options: BrowserContextOptions,
  ): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const context = await browser.newContext(options);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    await page.goto(server.url);
    await page.waitForFunction(() => document.querySelector('[data-testid=model-summary]')?.textContent?.includes('→'));
    return { context, page, errors };
  }

  for (const width of WIDTHS) {
    it(`fits ${width} px on every tab: no horizontal overflow, no text under 12 px`, async () => {
      const { context, page, errors } = await open({ viewport: { width, height: width <= 414 ? 844 : 900 } });
      expect(await drawAndPredict(page, [ONE])).toBe(1);
      for (const tab of TABS) {
        await visit(page, tab);
        const m = await page.evaluate(() => ({
          scrollWidth: document.scrollingElement!.scrollWidth,
          innerWidth,
          clientWidth: document.documentElement.clientWidth,
        }));
        expect(m.scrollWidth, `${tab} at ${width} px`).toBeLessThanOrEqual(m.innerWidth);
        expect(m.scrollWidth, `${tab} at ${width} px`).toBeLessThanOrEqual(m.clientWidth);
        expect(await smallText(page), `${tab} at ${width} px`).toEqual([]);
        if (width === 390 || width === 1280)
          await page.screenshot({ path: join(RESULTS, `${width}-${tab}.png`), fullPage: true });
      }
      expect(errors).toEqual([]);
      await context.close();
    });
  }

  it('on a phone: pad and prediction on the first screen, the model panel one line that opens on tap, touch drawing without scrolling', async () => {
    const { context, page } = await open({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 3,
      isMobile: true,
      hasTouch: true,
    });
    const height = await page.evaluate(() => innerHeight);
    const bottom = async (selector: string) => (await page.locator(selector).boundingBox())!;
    // The model panel is one line; a tap opens it (the summary shows), another closes it.
    const toggle = page.getByTestId('model-toggle');
    expect((await toggle.boundingBox())!.height).toBeLessThan(60);
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    expect(await page.getByTestId('model-summary').isVisible()).toBe(false);
    expect(await page.getByTestId('model-line').textContent()).toContain('784 → 512 → 10 · mnist_model.pth');
    await toggle.tap();
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    expect(await page.getByTestId('model-summary').isVisible()).toBe(true);
    await page.screenshot({ path: join(RESULTS, '390-model-open.png') });
    await toggle.tap();
    expect(await page.getByTestId('model-summary').isVisible()).toBe(false);
    // The pad and the predicted digit are both on the first screen.
    const pad = await bottom('[data-testid=draw]');
    const prediction = await bottom('[data-testid=prediction]');
    expect(pad.y + pad.height).toBeLessThanOrEqual(height);
    expect(prediction.y + prediction.height).toBeLessThanOrEqual(height);
    expect(await page.getByTestId('draw').evaluate((e) => getComputedStyle(e).touchAction)).toBe('none');

    // Real touch input (CDP Input.dispatchTouchEvent): the browser's own touch handling, gestures included.
    const cdp = await context.newCDPSession(page);
    const drag = async (x: number, y0: number, y1: number) => {
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x, y: y0 }] });
      for (let i = 1; i <= 12; i++)
        await cdp.send('Input.dispatchTouchEvent', {
          type: 'touchMove',
          touchPoints: [{ x, y: y0 + ((y1 - y0) * i) / 12 }],
        });
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
      await page.waitForTimeout(300);
    };
    await page.evaluate(() => {
      (window as unknown as { pointerTypes: string[] }).pointerTypes = [];
      document
        .querySelector('[data-testid=draw]')!
        .addEventListener('pointerdown', (e) =>
          (window as unknown as { pointerTypes: string[] }).pointerTypes.push((e as PointerEvent).pointerType),
        );
    });
    // A vertical stroke down the pad draws a 1 and leaves the page where it was.
    expect(await page.evaluate(() => scrollY)).toBe(0);
    await drag(pad.x + pad.width / 2, pad.y + pad.height * 0.15, pad.y + pad.height * 0.85);
    await page.waitForFunction(() => document.querySelector('[data-testid=prediction]')?.hasAttribute('data-digit'));
    expect(await page.getByTestId('prediction').getAttribute('data-digit')).toBe('1');
    expect(await page.evaluate(() => (window as unknown as { pointerTypes: string[] }).pointerTypes)).toEqual([
      'touch',
    ]);
    expect(await page.evaluate(() => scrollY)).toBe(0);
    await page.screenshot({ path: join(RESULTS, '390-touch-drawn.png') });
    // The same gesture on the prediction card scrolls the page (so the stroke above could have).
    await drag(pad.x + pad.width / 2, prediction.y + prediction.height, prediction.y - 300);
    expect(await page.evaluate(() => scrollY)).toBeGreaterThan(50);
    await context.close();
  });

  for (const scheme of ['light', 'dark'] as const) {
    it(`has no serious or critical axe-core violation on any tab (${scheme})`, async () => {
      const { context, page } = await open({ viewport: { width: 1280, height: 900 }, colorScheme: scheme });
      expect(await drawAndPredict(page, [ONE])).toBe(1);
      const report: string[] = [];
      for (const tab of TABS) {
        await visit(page, tab);
        report.push(...(await axeViolations(page)).map((v) => `${tab}: ${v}`));
      }
      // and the phone layout, model panel open
      await page.setViewportSize({ width: 390, height: 844 });
      await visit(page, 'draw');
      await page.getByTestId('model-toggle').click();
      report.push(...(await axeViolations(page)).map((v) => `draw at 390 px: ${v}`));
      expect(report).toEqual([]);
      const colours = await page.evaluate(() => ({
        body: getComputedStyle(document.body).backgroundColor,
        figure: getComputedStyle(document.querySelector('#view-draw svg')!).backgroundColor,
      }));
      if (scheme === 'dark') {
        await page.screenshot({ path: join(RESULTS, '390-draw-dark.png') });
        const [r, g, b] = colours.body.match(/\d+/g)!.map(Number);
        expect(r! + g! + b!).toBeLessThan(3 * 40); // a dark page
        expect(colours.figure).toBe('rgb(255, 255, 255)'); // the figures keep their white paper
      }
      await context.close();
    });
  }

  it('follows the WAI-ARIA tabs pattern: roles, aria-selected, aria-controls, arrow keys, Home and End', async () => {
    const { context, page } = await open({ viewport: { width: 1280, height: 900 } });
    const state = () =>
      page.evaluate(() =>
        [...document.querySelectorAll('[role=tablist] [role=tab]')].map((tab) => {
          const panel = document.getElementById(tab.getAttribute('aria-controls')!)!;
          return {
            id: tab.id,
            selected: tab.getAttribute('aria-selected'),
            tabindex: tab.getAttribute('tabindex'),
            panelRole: panel.getAttribute('role'),
            labelledBy: panel.getAttribute('aria-labelledby'),
            panelHidden: panel.hidden,
          };
        }),
      );
    const initial = await state();
    expect(initial.map((t) => t.id)).toEqual(TABS.map((t) => `tab-${t}`));
    for (const t of initial) {
      expect(t.panelRole).toBe('tabpanel');
      expect(t.labelledBy).toBe(t.id);
      expect(t.selected).toBe(String(t.id === 'tab-draw'));
      expect(t.tabindex).toBe(t.id === 'tab-draw' ? '0' : '-1');
      expect(t.panelHidden).toBe(t.id !== 'tab-draw');
    }
    const selectedAfter = async (key: string) => {
      await page.keyboard.press(key);
      const s = await state();
      const on = s.filter((t) => t.selected === 'true');
      expect(on).toHaveLength(1);
      expect(s.filter((t) => !t.panelHidden).map((t) => t.id)).toEqual([on[0]!.id]);
      expect((await active(page)).id).toBe(on[0]!.id);
      return on[0]!.id;
    };
    await page.focus('#tab-draw');
    expect(await selectedAfter('ArrowRight')).toBe('tab-explain');
    expect(await page.evaluate(() => location.hash)).toBe('#explain');
    expect(await selectedAfter('End')).toBe('tab-train');
    expect(await selectedAfter('ArrowRight')).toBe('tab-draw'); // wraps
    expect(await selectedAfter('ArrowLeft')).toBe('tab-train');
    expect(await selectedAfter('Home')).toBe('tab-draw');
    // Tab leaves the tab list for the panel.
    await page.keyboard.press('Tab');
    expect((await active(page)).id).toBe('view-draw');
    await context.close();
  });

  it('is usable by keyboard alone: every grid cell, the test-digit index, the Train form; the prediction is announced politely', async () => {
    const { context, page } = await open({ viewport: { width: 1280, height: 900 } });
    // The live region says the prediction once it settles.
    expect(await drawAndPredict(page, [ONE])).toBe(1);
    const announce = page.getByTestId('announce');
    expect(await announce.getAttribute('role')).toBe('status');
    expect(await announce.getAttribute('aria-live')).toBe('polite');
    await expect.poll(() => announce.textContent()).toMatch(/^Prediction: 1, \d+% sure\.$/);

    // Draw by keyboard: Tab reaches Clear and the photo upload.
    await page.focus('#tab-draw');
    const stops: string[] = [];
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press('Tab');
      const a = await active(page);
      stops.push(a.testid ?? a.id ?? '');
    }
    expect(stops).toContain('photo-file');

    // Weights: Tab into the grid, arrows to unit 37 (32 tiles a row), Enter shows it.
    await page.focus('#tab-draw');
    await page.keyboard.press('End');
    await page.keyboard.press('ArrowLeft'); // Weights
    await page.locator('#view-weights [role=grid]').waitFor();
    expect(await tabToGrid(page)).toBe('unit 0');
    for (const key of ['ArrowRight', 'ArrowRight', 'ArrowRight', 'ArrowRight', 'ArrowRight', 'ArrowDown'])
      await page.keyboard.press(key);
    expect((await active(page)).label).toBe('unit 37');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#view-weights .unit-detail h3').textContent()).toBe('Unit #37');
    expect(await page.locator('#view-weights [aria-selected=true]').getAttribute('aria-label')).toBe('unit 37');
    const after = async (key: string) => {
      await page.keyboard.press(key);
      return (await active(page)).label;
    };
    expect(await after('End')).toBe('unit 63');
    expect(await after('Home')).toBe('unit 32');
    expect(await after('PageDown')).toBe('unit 160');
    expect(await after('Control+End')).toBe('unit 511');
    expect(await after('ArrowRight')).toBe('unit 511'); // the edge holds
    expect(await after('Control+Home')).toBe('unit 0');
    await page.keyboard.press(' ');
    await expect.poll(() => page.locator('#view-weights .unit-detail h3').textContent()).toBe('Unit #0');
    await page.screenshot({ path: join(RESULTS, '1280-weights-keyboard.png') });

    // Test set: the digits are a grid too; Enter on one explains it.
    await page.focus('#tab-weights');
    await page.keyboard.press('ArrowLeft');
    await page.locator('#view-test [role=grid]').waitFor();
    expect(await tabToGrid(page, 25)).toMatch(/^#0: predicted 7, true 7$/);
    const second = await after('ArrowRight');
    const index = /^#(\d+):/.exec(second!)![1];
    expect(index).toBe('1');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate(() => location.hash)).toBe('#explain');
    await expect
      .poll(() => page.locator('#view-explain .explain-head').textContent())
      .toContain(`test digit #${index}`);

    // Explain: type an index and press Enter.
    await page.getByLabel('Test digit index').focus();
    await page.keyboard.press('Control+a');
    await page.keyboard.type('3');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#view-explain .explain-head').textContent()).toContain('test digit #3');

    // Train: every control is a tab stop, the checkpoint upload included.
    await page.focus('#tab-explain');
    await page.keyboard.press('End');
    const reached = new Set<string>();
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      const a = await active(page);
      if (a.testid) reached.add(a.testid);
    }
    for (const id of ['train-epochs', 'train-optimizer', 'train-dropout', 'train', 'train-resume'])
      expect([...reached]).toContain(id);
    await context.close();
  });

  it('honours prefers-reduced-motion', async () => {
    const motion = async (reducedMotion: 'reduce' | 'no-preference') => {
      const { context, page } = await open({ viewport: { width: 1280, height: 900 }, reducedMotion });
      const style = await page.evaluate(() => ({
        animation: getComputedStyle(document.getElementById('view-draw')!).animationName,
        scroll: getComputedStyle(document.documentElement).scrollBehavior,
        transition: getComputedStyle(document.querySelector('#view-draw button')!).transitionDuration.split(',')[0],
      }));
      await context.close();
      return style;
    };
    expect(await motion('no-preference')).toEqual({ animation: 'view-in', scroll: 'smooth', transition: '0.15s' });
    expect(await motion('reduce')).toEqual({ animation: 'none', scroll: 'auto', transition: '0s' });
  });
});
