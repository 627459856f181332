// The CLI as a newcomer runs it: `pnpm --filter cli start` from a folder other than apps/cli/ with relative paths
// (they mean the folder the command was typed in, and outputs land there), the README's own examples from the
// repository root, and `pnpm link-cli` putting a working `mnist` on PATH (in a temporary prefix here).
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, CLI_DIR, DEFAULT_MODEL, FIXTURES, REPO, oneLineError } from './helpers.js';

const pnpmVersion = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
const noPnpm =
  pnpmVersion.status === 0 ? undefined : `pnpm is not on PATH (${pnpmVersion.error?.message ?? pnpmVersion.stderr})`;
if (noPnpm) console.warn(`skipping the pnpm start tests: ${noPnpm}`);

/** `pnpm --filter cli start ...args` typed in `cwd`, as a user would (pnpm sets INIT_CWD to that folder). */
function pnpmStart(args: string[], cwd: string) {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', TURBO_TELEMETRY_DISABLED: '1' };
  delete env.INIT_CWD; // the test itself runs under pnpm: let the new pnpm set it afresh
  delete env.FORCE_COLOR;
  const r = spawnSync('pnpm', ['--filter', 'cli', 'start', ...args], {
    cwd,
    env,
    encoding: 'utf8',
    timeout: 240_000,
    maxBuffer: 64 << 20,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** JSON that the CLI printed on stdout; pnpm prints its own `$ node scripts/start.mjs …` line first. */
// biome-ignore lint/suspicious/noExplicitAny: the CLI's JSON report, read field by field by the tests
function jsonOf(stdout: string): any {
  return JSON.parse(stdout.slice(stdout.indexOf('{')));
}

describe.skipIf(noPnpm !== undefined)('pnpm --filter cli start, typed in another folder', () => {
  // A folder inside the workspace (pnpm finds the workspace from there), git-ignored, away from apps/cli/.
  let userDir = '';
  beforeAll(() => {
    mkdirSync(path.join(REPO, 'artifacts'), { recursive: true });
    userDir = mkdtempSync(path.join(REPO, 'artifacts', 'workdir-'));
    mkdirSync(path.join(userDir, 'pictures'));
    copyFileSync(DEFAULT_MODEL, path.join(userDir, 'my model.pth'));
    copyFileSync(path.join(FIXTURES, 'mnist-18-digit-3.png'), path.join(userDir, 'pictures', 'three.png'));
  });
  afterAll(() => rmSync(userDir, { recursive: true, force: true }));

  it('reads --model and --image relative to that folder', () => {
    const run = pnpmStart(['predict', '--model', 'my model.pth', '--image', 'pictures/three.png', '--json'], userDir);
    expect(run.code, run.stderr).toBe(0);
    const report = jsonOf(run.stdout);
    expect(report.predictions.map((p: { prediction: number }) => p.prediction)).toEqual([3]);
    expect(report.predictions[0].file).toBe('pictures/three.png');
    expect(report.model.source).toContain('my model.pth');
  });

  it('writes --out into that folder, and its hint names the command that works there', () => {
    const run = pnpmStart(
      ['train', '--epochs', '1', '--train-limit', '640', '--hidden', '16', '--out', 'trained.pth'],
      userDir,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(path.join(userDir, 'trained.pth'))).toBe(true);
    expect(existsSync(path.join(CLI_DIR, 'trained.pth'))).toBe(false);
    expect(run.stdout).toContain(`wrote ${path.join(userDir, 'trained.pth')}`);
    expect(run.stdout).toContain('try it: pnpm --filter cli start predict --model trained.pth');
    // and the file it wrote is read back from the same folder by the same relative name
    const again = pnpmStart(['predict', '--model', 'trained.pth', '--limit', '100', '--json'], userDir);
    expect(again.code, again.stderr).toBe(0);
    expect(jsonOf(again.stdout).count).toBe(100);
  });

  it("runs the README's hostile-model example from the repository root: the loader's one-line refusal", () => {
    const run = pnpmStart(['predict', '--model', 'packages/loader/fixtures/hostile/global_os_system.pth'], REPO);
    // pnpm turns every failing exit code into 1 and adds its own lines after ours (the README says so)
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^mnist predict: packages\/loader\/fixtures\/hostile\/global_os_system\.pth: the pickle references the global posix\.system, .* \[PTH_UNSAFE_GLOBAL\]$/m,
    );
  });
});

describe('pnpm link-cli: mnist on PATH', () => {
  mkdirSync(path.join(REPO, 'artifacts'), { recursive: true });
  const prefix = mkdtempSync(path.join(REPO, 'artifacts', 'prefix-'));
  afterAll(() => rmSync(prefix, { recursive: true, force: true }));
  const link = path.join(prefix, 'bin', 'mnist');
  const linkCli = (...args: string[]) =>
    spawnSync(
      process.execPath,
      [path.join(CLI_DIR, 'scripts', 'link.mjs'), '--no-build', '--prefix', prefix, ...args],
      { encoding: 'utf8', timeout: 60_000 },
    );

  it('links PREFIX/bin/mnist to the built CLI; `mnist` then runs from any folder with the exit codes of the README', () => {
    const made = linkCli();
    expect(made.status, made.stderr).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(BIN);
    expect(made.stdout).toContain(`${path.join(prefix, 'bin')} is not on PATH`);
    const env = {
      ...process.env,
      PATH: `${path.join(prefix, 'bin')}${path.delimiter}${process.env.PATH}`,
      NO_COLOR: '1',
    };
    const ok = spawnSync('mnist', ['predict', '--limit', '20', '--json'], {
      cwd: prefix,
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).count).toBe(20);
    const usage = spawnSync('mnist', ['predict', '--bogus'], { cwd: prefix, env, encoding: 'utf8', timeout: 120_000 });
    expect(usage.status).toBe(2); // no pnpm in between: the documented exit code reaches the shell
    expect(oneLineError({ ...usage, code: usage.status, signal: usage.signal, ms: 0 })).toBe(
      'mnist predict: unknown option --bogus (see mnist predict --help)',
    );
  });

  it('is idempotent, removes only its own link, and never replaces another file', () => {
    expect(linkCli().status).toBe(0);
    const removed = linkCli('--remove');
    expect(removed.status, removed.stderr).toBe(0);
    expect(existsSync(link)).toBe(false);
    writeFileSync(link, '#!/bin/sh\necho someone else\n');
    const refused = linkCli();
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/already exists and is not a link to this clone's CLI/);
    expect(linkCli('--remove').status).toBe(1);
    expect(existsSync(link)).toBe(true);
  });
});
