// train --recipe: the run's first line is the recipe written out as options, the README's expansion word for word
// (with the options given in its place); the recipe's run writes the bytes of those options given explicitly; another
// --optimizer drops the recipe's optimizer options; the .pth has the recipe's layers and loads in PyTorch; the
// progress bar has an ETA; an unknown name, --resume and --init are refused in one line before any work.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TRAIN_RECIPES } from '@mnist/core-wasm';
import { loadMlp } from '@mnist/loader';
import { describe, expect, it } from 'vitest';
import { REPO, mnist, oneLineError, tempDir, torchPython } from './helpers.js';

const dir = tempDir();
// one thread: these runs are tiny, and the results are the same bits on any count
const engine = ['--threads', '1'];

/** The options the README writes `mnist train --recipe best` out as (the code block after it). */
function readmeExpansion(): string[] {
  const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const after = readme.slice(readme.indexOf('```\nmnist train --recipe best\n```'));
  const block = /```\n(mnist train --hidden[^`]*)```/.exec(after);
  if (!block) throw new Error('README: no expansion of mnist train --recipe best');
  return block[1]!.replace(/\\\n/g, ' ').trim().split(/\s+/).slice(2);
}

/** The options with each of `changes` (flag -> value) given its new value. */
function withValues(options: string[], changes: Record<string, string>): string[] {
  const out = options.slice();
  for (const [flag, value] of Object.entries(changes)) {
    const i = out.indexOf(flag);
    if (i < 0) throw new Error(`${flag} not in ${out.join(' ')}`);
    out[i + 1] = value;
  }
  return out;
}

/** The options without these flags (and their values: a flag followed by another flag has none). */
function without(options: string[], flags: string[]): string[] {
  return options.filter((o, i) => !flags.includes(o) && !(flags.includes(options[i - 1]!) && !o.startsWith('--')));
}

const firstLine = (stdout: string) => stdout.split('\n')[0];

describe('train --recipe', () => {
  const expansion = readmeExpansion();

  it('best: prints the README expansion, writes the recipe layers (784-1024-10), loads in PyTorch, shows an ETA', async (ctx) => {
    const out = path.join(dir, 'best.pth');
    const run = mnist(['train', '--recipe', 'best', '--epochs', '1', '--train-limit', '128', ...engine, '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(firstLine(run.stdout)).toBe(
      `recipe best (given: --epochs): ${withValues(expansion, { '--epochs': '1' }).join(' ')}`,
    );
    // the README's expansion is the recipe's: spot checks against TRAIN_RECIPES itself
    const best = TRAIN_RECIPES.best;
    expect(expansion.join(' ')).toContain(`--hidden ${best.hidden.join(',')} --epochs ${best.config.epochs} `);
    expect(expansion.join(' ')).toContain(`--lr ${best.config.optimizer!.lr} `);
    expect(expansion.join(' ')).toContain(`--label-smoothing ${best.config.labelSmoothing} `);
    expect(run.stdout).toContain('training a 784-1024-10 MLP from seeded random weights (seed 1)');
    // 2 steps: the plain (non-TTY) progress line of step 1, with the run's ETA
    expect(run.stderr).toMatch(/^epoch 1\/1 1\/2 {2}ETA \d+(\.\d)? s {2}loss \d\.\d{4} {2}[\d,]+ images\/s$/m);

    const model = await loadMlp(new Uint8Array(readFileSync(out)));
    expect(model.layers.map((l) => [l.name, l.in, l.out])).toEqual([
      ['fc1', 784, 1024],
      ['fc2', 1024, 10],
    ]);
    const { python, reason } = torchPython();
    if (!python) {
      console.log(`skipped PyTorch interop: ${reason}`);
      ctx.skip();
      return;
    }
    const script = `
import sys, json, torch
sd = torch.load(sys.argv[1], weights_only=True)
print(json.dumps({k: list(v.shape) for k, v in sd.items()}))
`;
    const r = spawnSync(python, ['-c', script, out], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      'fc1.weight': [1024, 784],
      'fc1.bias': [1024],
      'fc2.weight': [10, 1024],
      'fc2.bias': [10],
    });
  }, 120_000);

  it('options given override the recipe, and the run writes the bytes of the same options given explicitly', () => {
    const small = { '--hidden': '32', '--epochs': '1', '--seed': '2' };
    const viaRecipe = path.join(dir, 'recipe-small.pth');
    const a = mnist([
      'train',
      '--recipe',
      'best',
      '--epochs',
      '1',
      '--train-limit',
      '256',
      '--hidden',
      '32',
      '--seed',
      '2',
      ...engine,
      '--out',
      viaRecipe,
    ]);
    expect(a.code, a.stderr).toBe(0);
    const explicit = withValues(expansion, small);
    expect(firstLine(a.stdout)).toBe(`recipe best (given: --hidden, --epochs, --seed): ${explicit.join(' ')}`);

    const viaOptions = path.join(dir, 'explicit-small.pth');
    const b = mnist(['train', ...explicit, '--train-limit', '256', ...engine, '--out', viaOptions]);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).not.toContain('recipe');
    expect(readFileSync(viaRecipe).equals(readFileSync(viaOptions))).toBe(true);
    // the file depends on the options: the recipe's seed 1 writes other bytes
    const other = path.join(dir, 'recipe-seed1.pth');
    const c = mnist([
      'train',
      ...withValues(explicit, { '--seed': '1' }),
      '--train-limit',
      '256',
      ...engine,
      '--out',
      other,
    ]);
    expect(c.code, c.stderr).toBe(0);
    expect(readFileSync(other).equals(readFileSync(viaOptions))).toBe(false);
  }, 120_000);

  it("another --optimizer drops the recipe's optimizer options and --max-lr, and says so", () => {
    const out = path.join(dir, 'adamw.pth');
    const run = mnist([
      'train',
      '--recipe',
      'best',
      '--optimizer',
      'adamw',
      '--epochs',
      '1',
      '--train-limit',
      '128',
      '--hidden',
      '16',
      ...engine,
      '--out',
      out,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const dropped = ['--lr', '--momentum', '--nesterov', '--weight-decay', '--max-lr'];
    const kept = withValues(without(expansion, dropped), { '--hidden': '16', '--epochs': '1', '--optimizer': 'adamw' });
    expect(firstLine(run.stdout)).toBe(
      `recipe best (given: --hidden, --epochs, --optimizer; not used: the recipe's ${dropped.join(', ')}): ${kept.join(' ')}`,
    );
    // adamw with its own defaults, nothing of the recipe's sgd
    expect(run.stdout).toMatch(/; 1 epoch, batch \d+, adamw lr 0\.001, /);
  }, 120_000);

  it('refuses an unknown recipe, --recipe with --resume and with --init, in one line, before any work', () => {
    const out = path.join(dir, 'refused.pth');
    const cases: Array<[string[], string]> = [
      [['--recipe', 'fastest'], 'mnist train: invalid --recipe: "fastest" (expected one of best)'],
      [
        ['--recipe', 'best', '--resume', path.join(dir, 'no-such-run.pth')],
        "mnist train: --recipe does not go with --resume (a resumed run's options come from its checkpoint)",
      ],
      [
        ['--recipe', 'best', '--init', path.join(dir, 'no-such-model.pth')],
        'mnist train: --recipe trains a new network: it does not go with --init (fine-tune with explicit options)',
      ],
    ];
    for (const [args, message] of cases) {
      const run = mnist(['train', ...args, '--out', out]);
      expect(run.code, args.join(' ')).toBe(2);
      expect(oneLineError(run)).toBe(message);
      expect(run.stdout).toBe('');
      expect(existsSync(out)).toBe(false);
    }
  }, 120_000);
});
