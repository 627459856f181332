// Shared by the browser tests and scripts/perf.mjs's documentation: find Debian's Chromium, launch it headless with
// the flags that work on this machine, serve dist/ on a free port, and build the site when asked.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
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

export async function startServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const { server, url } = await serve(join(WEB_ROOT, 'dist'), { port: 0 });
  return { url, close: () => new Promise((r) => server.close(() => r())) };
}
