// visualize: every figure is written, each SVG file is a standalone <svg> of the right content, PNGs decode;
// a path that is a file is refused.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pngjs from 'pngjs';
import { describe, expect, it } from 'vitest';
import { LOADER_FIXTURES, mnist, oneLineError, tempDir } from './helpers.js';

const FIGURES = [
  'confusion-matrix',
  'fc1-bias',
  'fc1-weight',
  'fc1-weight-tiles',
  'fc2-bias',
  'fc2-weight',
  'predictions',
];

describe('visualize', () => {
  it('writes the SVG figures of the default model and prints their paths', () => {
    const out = path.join(tempDir(), 'figures');
    const run = mnist(['visualize', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    const files = readdirSync(out).sort();
    expect(files).toEqual(FIGURES.map((f) => `${f}.svg`).sort());
    for (const f of files) {
      expect(run.stdout).toContain(path.join(out, f));
      const svg = readFileSync(path.join(out, f), 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
      // No NaN anywhere in the markup (embedded PNG data excluded: base64 may spell it).
      expect(svg.replace(/data:image\/png;base64,[A-Za-z0-9+/=]+/g, '').includes('NaN'), f).toBe(false);
    }
    const confusion = readFileSync(path.join(out, 'confusion-matrix.svg'), 'utf8');
    expect(confusion).toContain('97.84%');
    expect(run.stdout).toMatch(/predictions\.svg .*60 test digits with predictions, \d+ mistakes framed in red/);
  });

  it('writes PNGs with --format png, for a deeper model too (one heatmap per layer)', () => {
    const out = tempDir();
    const run = mnist([
      'visualize',
      '--out',
      out,
      '--format',
      'png',
      '--model',
      path.join(LOADER_FIXTURES, 'good', 'layout_3layer.pth'),
      '--examples',
      '20',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const files = readdirSync(out).sort();
    expect(files).toHaveLength(1 + 3 * 2 + 2);
    for (const f of files) {
      expect(f.endsWith('.png')).toBe(true);
      const png = pngjs.PNG.sync.read(readFileSync(path.join(out, f)));
      expect(png.width).toBeGreaterThan(50);
      expect(png.height).toBeGreaterThan(20);
    }
  });

  it('refuses to write into a path that is a file', () => {
    const file = path.join(tempDir(), 'not-a-folder');
    writeFileSync(file, 'x');
    const run = mnist(['visualize', '--out', file]);
    expect(run.code).toBe(1);
    expect(oneLineError(run)).toMatch(/not-a-folder is a file, not a folder; pass --out with a folder name/);
  });
});
