// Sums the vitest JSON reports of every workspace package (test-results/vitest.json, written by each package's
// vitest config) into one line, "tests: N passed, N failed, N skipped", and lists packages that wrote no report.
// Usage: node scripts/test-totals.mjs [--clean]   (--clean deletes the reports first, before a run)
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const packages = ['packages', 'apps', 'tests']
  .flatMap((group) =>
    existsSync(path.join(root, group)) ? readdirSync(path.join(root, group)).map((name) => path.join(group, name)) : [],
  )
  .concat(['bench'])
  .filter((dir) => existsSync(path.join(root, dir, 'vitest.config.ts')));
const report = (dir) => path.join(root, dir, 'test-results', 'vitest.json');

if (process.argv.includes('--clean')) {
  for (const dir of packages) rmSync(report(dir), { force: true });
  process.exit(0);
}

const totals = { passed: 0, failed: 0, skipped: 0 };
const missing = [];
for (const dir of packages) {
  if (!existsSync(report(dir))) {
    missing.push(dir);
    continue;
  }
  const r = JSON.parse(readFileSync(report(dir), 'utf8'));
  totals.passed += r.numPassedTests;
  totals.failed += r.numFailedTests;
  totals.skipped += r.numPendingTests + (r.numTodoTests ?? 0);
  // a test file that failed to load counts no test: count it as a failure so it cannot pass unseen
  totals.failed += r.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0).length;
}
if (missing.length) console.log(`no vitest report from: ${missing.join(', ')} (their tests did not run)`);
// the closing line CI reads
console.log(
  `tests: ${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`,
);
