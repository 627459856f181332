// `pnpm --filter cli start <command>`: builds the CLI and the packages it bundles (turbo, cached, output shown
// only on failure), then runs dist/mnist.js in this process with the arguments pnpm appended, from the folder
// the user typed the command in (pnpm runs scripts in apps/cli/ and passes that folder as INIT_CWD), so relative
// paths such as --model my.pth or --out model.pth mean what the user sees.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const cliDir = fileURLToPath(new URL('..', import.meta.url));
const workspace = path.resolve(cliDir, '../..');
const localTurbo = path.join(workspace, 'node_modules', '.bin', 'turbo');
const turbo = existsSync(localTurbo) ? localTurbo : 'turbo';

const result = spawnSync(turbo, ['run', 'build', '--filter=@mnist/cli...', '--output-logs=errors-only'], {
  cwd: workspace,
  encoding: 'utf8',
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', TURBO_NO_UPDATE_NOTIFIER: '1' },
  maxBuffer: 64 << 20,
});
if (result.error || result.status !== 0) {
  process.stderr.write(result.stdout ?? '');
  process.stderr.write(result.stderr ?? '');
  process.stderr.write(
    `mnist: building the CLI failed (${result.error ? result.error.message : `turbo exited with ${result.status}`}); run pnpm install, then pnpm --filter cli build to see why\n`,
  );
  process.exit(1);
}
// pnpm sets INIT_CWD to the folder the command was typed in; a missing or vanished folder keeps apps/cli/.
const userDir = process.env.INIT_CWD;
if (userDir && existsSync(userDir)) process.chdir(userDir);
// The CLI's hints ("try it: …") name the command that works here, not a bare `mnist` that may not be on PATH.
process.env.MNIST_COMMAND ??= 'pnpm --filter cli start';
await import(pathToFileURL(path.join(cliDir, 'dist', 'mnist.js')).href);
