// Puts `mnist` on PATH: a symbolic link PREFIX/bin/mnist -> apps/cli/dist/mnist.js (built first). The link
// follows rebuilds, and the CLI finds its data and native PNG renderer next to its real path in the clone.
// Usage: pnpm link-cli [--prefix DIR] [--remove]   (default prefix: npm's global prefix, `npm prefix -g`)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readlinkSync, symlinkSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const cliDir = fileURLToPath(new URL('..', import.meta.url));
const workspace = path.resolve(cliDir, '../..');
const target = path.join(cliDir, 'dist', 'mnist.js');

function fail(message) {
  process.stderr.write(`link-cli: ${message}\n`);
  process.exit(1);
}

let args;
try {
  args = parseArgs({
    options: { prefix: { type: 'string' }, remove: { type: 'boolean' }, 'no-build': { type: 'boolean' } },
    strict: true,
  }).values;
} catch (err) {
  process.stderr.write(`link-cli: ${err.message} (usage: pnpm link-cli [--prefix DIR] [--remove])\n`);
  process.exit(2);
}

// pnpm runs this in the workspace root; a relative --prefix means the folder the user typed the command in.
const userDir = process.env.INIT_CWD && existsSync(process.env.INIT_CWD) ? process.env.INIT_CWD : process.cwd();
let prefix = args.prefix;
if (prefix === undefined) {
  try {
    prefix = execFileSync('npm', ['prefix', '-g'], { encoding: 'utf8' }).trim();
  } catch {
    fail('cannot ask npm for its global prefix; pass --prefix DIR (the link goes to DIR/bin/mnist)');
  }
}
const binDir = path.resolve(userDir, prefix, 'bin');
const link = path.join(binDir, 'mnist');

/** What is at `link` now: nothing, our link, or something else (never replaced). */
function existing() {
  try {
    const stat = lstatSync(link);
    if (stat.isSymbolicLink() && path.resolve(binDir, readlinkSync(link)) === target) return 'ours';
    return 'other';
  } catch {
    return 'none';
  }
}

if (args.remove) {
  const what = existing();
  if (what === 'other') fail(`${link} is not a link to this clone's CLI; left it alone`);
  if (what === 'ours') unlinkSync(link);
  console.log(what === 'ours' ? `removed ${link}` : `no link at ${link}`);
  process.exit(0);
}

if (!args['no-build']) {
  const localTurbo = path.join(workspace, 'node_modules', '.bin', 'turbo');
  const built = spawnSync(
    existsSync(localTurbo) ? localTurbo : 'turbo',
    ['run', 'build', '--filter=@mnist/cli...', '--output-logs=errors-only'],
    {
      cwd: workspace,
      stdio: 'inherit',
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', TURBO_NO_UPDATE_NOTIFIER: '1' },
    },
  );
  if (built.status !== 0) fail('building the CLI failed; run pnpm install, then pnpm --filter cli build to see why');
}
if (!existsSync(target)) fail(`${target} is missing; run pnpm --filter cli build`);

const what = existing();
if (what === 'other')
  fail(`${link} already exists and is not a link to this clone's CLI; remove it or pass --prefix DIR`);
try {
  mkdirSync(binDir, { recursive: true });
  if (what === 'none') symlinkSync(target, link);
} catch (err) {
  fail(
    `cannot create ${link} (${err.code ?? err.message}); pass --prefix DIR for a folder you can write, e.g. --prefix ~/.local`,
  );
}
const onPath = (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir && path.resolve(dir) === binDir);
console.log(`linked ${link} -> ${target}`);
console.log(
  onPath
    ? 'try it: mnist predict'
    : `${binDir} is not on PATH: add it (export PATH="${binDir}:$PATH"), then try: mnist predict`,
);
