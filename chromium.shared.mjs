// How every browser test and script here starts Debian's Chromium: its path (CHROMIUM_PATH overrides) and the
// headless flags that work on these machines (no sandbox as root, no GPU, nothing that reaches the network).
// Plain data, no imports: each caller passes these to playwright-core's chromium.launch() or to the binary.
import { existsSync } from 'node:fs';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Why browser tests cannot run here (no Chromium), or undefined when they can. */
export function missingBrowser() {
  return existsSync(CHROMIUM)
    ? undefined
    : `Chromium not found at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
}
