// The training recipes: each passes trainConfig and its schedule builds; `best` holds its documented settings (the
// README's expansion of `mnist train --recipe best`, which apps/cli/test/recipe.test.ts checks against the CLI's
// printed settings); the record cannot be changed by a caller.
import { describe, expect, it } from 'vitest';
import { Schedule, TRAIN_DEFAULTS, TRAIN_RECIPES, trainConfig, type RecipeName } from '../src/index.js';

const names = Object.keys(TRAIN_RECIPES) as RecipeName[];

describe('TRAIN_RECIPES', () => {
  it('has best, and every recipe is a valid configuration with a valid schedule', () => {
    expect(names).toContain('best');
    for (const name of names) {
      const { hidden, config, description } = TRAIN_RECIPES[name];
      expect(description.length, name).toBeGreaterThan(0);
      expect(hidden.length, name).toBeGreaterThan(0);
      expect(
        hidden.every((h) => Number.isInteger(h) && h >= 1),
        name,
      ).toBe(true);
      const c = trainConfig(config);
      if (c.schedule) expect(() => new Schedule({ ...c.schedule!, total: 100 }, c.optimizer.lr)).not.toThrow();
    }
  });

  it('best: a 784-1024-10 MLP, 50 epochs of Nesterov SGD, one-cycle to 0.1, label smoothing 0.05, augmentation', () => {
    const best = TRAIN_RECIPES.best;
    expect(best.hidden).toEqual([1024]);
    expect(trainConfig(best.config)).toEqual({
      epochs: 50,
      batchSize: 64,
      seed: 1,
      optimizer: { optimizer: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.0005 },
      schedule: { kind: 'onecycle', maxLr: 0.1 },
      labelSmoothing: 0.05,
      dropLast: false,
      validation: 0,
      patience: null,
      keepBest: true,
      augment: { shift: 1, rotate: 6, scale: 0.05, elastic: { alpha: 34, sigma: 5 } },
      normalize: null,
    });
    // the seed is the default one, not the recipe's: --seed N reruns the same recipe
    expect(best.config).not.toHaveProperty('seed');
    expect(trainConfig(best.config).seed).toBe(TRAIN_DEFAULTS.seed);
  });

  it('is frozen all the way down', () => {
    const frozen = (v: unknown): boolean =>
      typeof v !== 'object' || v === null || (Object.isFrozen(v) && Object.values(v).every(frozen));
    expect(frozen(TRAIN_RECIPES)).toBe(true);
    expect(() => {
      (TRAIN_RECIPES.best.config as { epochs: number }).epochs = 1;
    }).toThrow(TypeError);
  });
});
