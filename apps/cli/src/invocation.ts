// How the user started this CLI, so that hints name a command that works where they are: `mnist` when it runs
// through the `mnist` link on PATH, the pnpm form when scripts/start.mjs ran it, else `node <path to mnist.js>`.
import path from 'node:path';

/** The command prefix to print in hints, e.g. `mnist`, `pnpm --filter cli start` or `node apps/cli/dist/mnist.js`. */
export function invocation(): string {
  const fromStart = process.env.MNIST_COMMAND;
  if (fromStart) return fromStart;
  const script = process.argv[1] ?? '';
  if (path.basename(script) === 'mnist') return 'mnist';
  const relative = path.relative(process.cwd(), script);
  const shown = relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : script;
  return `node ${/[\s'"$`\\]/.test(shown) ? JSON.stringify(shown) : shown}`;
}

/** A hint naming a command of this CLI: commandLine('predict --errors') -> 'mnist predict --errors'. */
export function commandLine(args: string): string {
  return `${invocation()} ${args}`;
}
