// Plot-style SVG snapshots: each figure in test/plots is serialised (linkedom), numbers rounded to 3 decimals and
// compared with test/output/<name>.svg. A mismatch writes <name>-changed.svg (gitignored) and fails. A missing
// snapshot is written and the test passes on a developer's machine (run once, look, commit); under CI (CI set, as
// vitest does for its own snapshots) a missing snapshot fails, so a forgotten commit cannot pass unseen.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createDocument, toSvgString } from '../src/node.js';
import * as plots from './plots/index.js';

const output = new URL('./output/', import.meta.url);

/** Rounds decimals to 3 places (outside data: URIs, whose base64 holds no '.') and renumbers Plot's clip ids. */
function normalize(svg: string): string {
  return svg
    .replace(/-?\d+\.\d+(?:e[-+]?\d+)?/g, (number) => {
      const rounded = +(+number).toFixed(3);
      return String(Object.is(rounded, -0) ? 0 : rounded);
    })
    .replace(/plot-clip-\d+/g, 'plot-clip')
    .replace(/></g, '>\n<');
}

describe('snapshots', () => {
  for (const [name, build] of Object.entries(plots)) {
    it(name, () => {
      const actual = normalize(toSvgString(build(createDocument())));
      const expectedFile = new URL(`${name}.svg`, output);
      const changedFile = new URL(`${name}-changed.svg`, output);
      if (!existsSync(expectedFile)) {
        const ci = Boolean(process.env.CI) && process.env.CI !== 'false';
        expect(ci, `test/output/${name}.svg is missing: run the viz tests locally, look at it, and commit it`).toBe(
          false,
        );
        writeFileSync(expectedFile, actual);
        console.warn(`wrote new snapshot test/output/${name}.svg: look at it, then commit it`);
        return;
      }
      const expected = readFileSync(expectedFile, 'utf8');
      if (actual !== expected) writeFileSync(changedFile, actual);
      expect(actual === expected, `${name} changed: compare test/output/${name}-changed.svg with ${name}.svg`).toBe(
        true,
      );
    });
  }
});
