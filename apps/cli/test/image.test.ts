// predict --image: committed pictures (real MNIST digits photographed-style on paper, a JPEG, light-on-dark,
// thick-stroke drawn 1 and 0) predict the digit in their file name; undecodable pictures fail with one line.
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pngjs from 'pngjs';
import { describe, expect, it } from 'vitest';
import { FIXTURES, mnist, oneLineError, tempDir } from './helpers.js';

const pictures = readdirSync(FIXTURES)
  .filter((f) => /\.(png|jpg)$/.test(f))
  .sort();
const expected = (file: string) => Number(/digit-(\d)/.exec(file)![1]);

describe('predict --image', () => {
  it('has the committed pictures', () => {
    expect(pictures.length).toBeGreaterThanOrEqual(9);
    expect(pictures.some((f) => f.endsWith('.jpg'))).toBe(true);
    expect(pictures.filter((f) => f.startsWith('drawn-'))).toEqual(['drawn-digit-0.png', 'drawn-digit-1.png']);
  });

  it('predicts the right digit for every picture (--json: one entry per file, no index or label)', () => {
    const run = mnist(['predict', '--json', '--image', ...pictures.map((f) => path.join(FIXTURES, f))]);
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc.count).toBe(pictures.length);
    expect(doc.accuracy).toBeNull();
    for (const [i, p] of doc.predictions.entries()) {
      expect(path.basename(p.file)).toBe(pictures[i]);
      expect(p).not.toHaveProperty('index');
      expect(p).not.toHaveProperty('label');
      expect(p.probabilities).toHaveLength(10);
      expect(p.logits).toHaveLength(10);
      expect({ file: pictures[i], prediction: p.prediction }).toEqual({
        file: pictures[i],
        prediction: expected(pictures[i]!),
      });
      expect(Math.max(...p.probabilities)).toBeGreaterThan(0.5);
    }
  });

  it('draws each picture as the network sees it, next to its prediction', () => {
    const run = mnist([
      'predict',
      '--image',
      path.join(FIXTURES, 'drawn-digit-0.png'),
      path.join(FIXTURES, 'drawn-digit-1.png'),
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('drawn-digit-0.png');
    expect(run.stdout).toMatch(/300x260 → prediction 0/);
    expect(run.stdout).toMatch(/200x240 → prediction 1/);
    expect(run.stdout).toMatch(/[▀▄█]{3}/);
  });

  it('detects the format by magic bytes, not the extension', () => {
    const dir = tempDir();
    const png = pictures.find((f) => f.endsWith('.png') && f.startsWith('mnist-'))!;
    copyFileSync(path.join(FIXTURES, png), path.join(dir, 'actually-a-png.jpg'));
    const run = mnist(['predict', '--json', '--image', path.join(dir, 'actually-a-png.jpg')]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).predictions[0].prediction).toBe(expected(png));
  });

  it('fails with one line and exit 1 on pictures it cannot use', () => {
    const dir = tempDir();
    const text = path.join(dir, 'notes.png');
    writeFileSync(text, 'this is a text file, not a picture\n');
    const truncated = path.join(dir, 'truncated.png');
    writeFileSync(truncated, readFileSync(path.join(FIXTURES, 'drawn-digit-1.png')).subarray(0, 200));
    const gif = path.join(dir, 'digit.gif');
    writeFileSync(gif, Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'));
    const blank = path.join(dir, 'blank.png');
    const white = new pngjs.PNG({ width: 40, height: 40 });
    white.data.fill(255);
    writeFileSync(blank, pngjs.PNG.sync.write(white));
    const cases: Array<[string, RegExp]> = [
      [text, /notes\.png: not a PNG or JPEG image; convert it to PNG or JPEG/],
      [truncated, /truncated\.png: cannot decode this PNG file \(.+\); re-save it/],
      [gif, /digit\.gif: a GIF image; convert it to PNG or JPEG/],
      [blank, /blank\.png: no digit found in the image .*\[IMAGE_EMPTY\]/],
      [path.join(dir, 'missing.png'), /image .*missing\.png: no such file/],
    ];
    for (const [file, message] of cases) {
      const run = mnist(['predict', '--image', file]);
      expect(run.code, file).toBe(1);
      expect(oneLineError(run)).toMatch(message);
      expect(run.stdout).toBe('');
    }
  });
});
