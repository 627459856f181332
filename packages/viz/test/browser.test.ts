// The same figure functions in a real browser (Debian's Chromium via playwright-core): the package bundles for the
// browser with no Node built-ins, every figure is one <svg> in the page's own DOM, and a tile's weights show their
// colours where they should, as sharp pixels ("pixelated"), in Chromium's own rendering.

import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePng } from './png-decode.js';
import { CHROMIUM, CHROMIUM_ARGS, missingBrowser } from '../../../chromium.shared.mjs';

const haveChromium = missingBrowser() === undefined;

describe.skipIf(!haveChromium)(
  'in Chromium (skipped when /usr/bin/chromium is missing: apt-get install -y chromium)',
  () => {
    let browser: Browser;
    let bundle: string;

    beforeAll(async () => {
      const result = await build({
        entryPoints: [new URL('../src/index.ts', import.meta.url).pathname],
        bundle: true,
        platform: 'browser',
        format: 'iife',
        globalName: 'viz',
        write: false,
        logLevel: 'silent',
      });
      bundle = result.outputFiles[0].text;
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [...CHROMIUM_ARGS],
      });
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
    });

    it('bundles for the browser without Node built-ins', () => {
      expect(bundle.length).toBeGreaterThan(10_000);
      expect(bundle).not.toMatch(/require\(["']node:|from ["']node:/);
    });

    it("builds every figure as an <svg> with the page's document", async () => {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.setContent('<!DOCTYPE html><html><body></body></html>');
      await page.addScriptTag({ content: bundle });
      const tags = await page.evaluate(() => {
        // biome-ignore lint/suspicious/noExplicitAny: the bundle's global, set by the page script
        const v = (globalThis as any).viz;
        const W = new Float32Array(4 * 784).map((_, i) => Math.sin(i));
        const figures = [
          v.weightTiles(W, { out: 4, title: 'tiles' }),
          v.heatmap(W, { rows: 4, cols: 784 }),
          v.heatmap(new Float32Array([1, -1, 0.5]), { rows: 1, cols: 3 }),
          v.predictionGrid(new Uint8Array(2 * 784).fill(128), [1, 2], [1, 3]),
          v.confusionMatrix([0, 1, 2], [0, 1, 1]),
          v.probabilityBars([0.1, 0.9]),
          v.logitBars([-1, 2.5]),
          v.signedBars([0.2, -0.1], { horizontal: true }),
          v.lossCurve([
            { step: 0, loss: 2 },
            { step: 1, loss: 1, accuracy: 0.5 },
          ]),
          v.digitImage(new Uint8Array(784)),
          v.attributionMap(W.subarray(0, 784), { title: 'map' }),
          v.attributionOverlay(new Uint8Array(784).fill(128), W.subarray(0, 784)),
          v.weightDelta(W, { out: 4 }),
          v.explanation({
            pixels: new Uint8Array(784),
            attribution: W.subarray(0, 784),
            target: 1,
            probabilities: [0.1, 0.9],
            units: [{ unit: 3, contribution: -0.2 }],
            counterfactual: { pixels: new Uint8Array(784), probabilities: [0.6, 0.4] },
          }),
        ];
        for (const figure of figures) document.body.append(figure);
        return figures.map((figure: Element) => `${figure.tagName}:${figure.namespaceURI}`);
      });
      expect(errors).toEqual([]);
      expect(tags).toEqual(Array(14).fill('svg:http://www.w3.org/2000/svg'));
      await page.close();
    }, 30_000);

    it("draws a tile's weights in Chromium: positive dark red, negative dark blue, as sharp pixels", async () => {
      const page = await browser.newPage({ deviceScaleFactor: 1, viewport: { width: 800, height: 600 } });
      await page.setContent("<!DOCTYPE html><html><body style='margin:0'></body></html>");
      await page.addScriptTag({ content: bundle });
      const box = await page.evaluate(() => {
        // biome-ignore lint/suspicious/noExplicitAny: the bundle's global, set by the page script
        const v = (globalThis as any).viz;
        const W = new Float32Array(784);
        W[3 * 28 + 5] = 0.8;
        W[10 * 28 + 20] = -0.8;
        const svg = v.weightTiles(W, { out: 1, width: 400 });
        document.body.append(svg);
        const image = svg.querySelectorAll('image')[1];
        const rect = image.getBoundingClientRect();
        return { x: rect.x, y: rect.y, width: rect.width, height: rect.height };
      });
      const png = decodePng(new Uint8Array(await page.screenshot({ type: 'png' })));
      const channels = png.colorType === 6 ? 4 : 3;
      // The grid PNG of one tile is 29 pixels wide (28 + a 1-pixel gap) and 29 + label band tall; use the width for both.
      const pixel = box.width / 29;
      const at = (c: number, r: number) => {
        const x = Math.floor(box.x + c * pixel);
        const y = Math.floor(box.y + r * pixel);
        const i = (y * png.width + x) * channels;
        return [png.data[i], png.data[i + 1], png.data[i + 2]];
      };
      const near = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]) <= 8);
      expect(pixel).toBeGreaterThan(8);
      // Near the edges of the weight's square, not only at its centre: smoothing would blend in the white neighbours.
      for (const [dc, dr] of [
        [0.2, 0.2],
        [0.5, 0.5],
        [0.8, 0.8],
      ]) {
        expect(at(5 + dc, 3 + dr), `positive weight at +${dc}`).toSatisfy((rgb: number[]) => near(rgb, [103, 0, 31]));
        expect(at(20 + dc, 10 + dr), `negative weight at +${dc}`).toSatisfy((rgb: number[]) => near(rgb, [5, 48, 97]));
      }
      expect(Math.min(...at(14.5, 14.5))).toBeGreaterThan(225);
      await page.close();
    }, 30_000);
  },
);
