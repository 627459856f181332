// Tests of the seeded randomness the training loops share (src/random.ts): reproducible, uniform, and a true permutation.
import { describe, expect, it } from 'vitest';
import { seededRandom, shuffle, shuffledOrder } from '../src/index.js';

describe('seeded randomness', () => {
  it('repeats a stream for a seed and differs across seeds', () => {
    const a = seededRandom(42),
      b = seededRandom(42),
      c = seededRandom(43);
    const sa = Array.from({ length: 100 }, a),
      sb = Array.from({ length: 100 }, b),
      sc = Array.from({ length: 100 }, c);
    expect(sa).toEqual(sb);
    expect(sa.filter((v, i) => v === sc[i]).length).toBe(0);
  });

  it('is uniform on [0, 1): mean, variance and decile counts of 100,000 draws', () => {
    const r = seededRandom(7),
      n = 100_000,
      deciles = new Array(10).fill(0);
    let sum = 0,
      sumSq = 0;
    for (let i = 0; i < n; i++) {
      const v = r();
      expect(v >= 0 && v < 1).toBe(true);
      sum += v;
      sumSq += v * v;
      deciles[Math.floor(v * 10)]++;
    }
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.005); // sd of the mean is 0.0009
    expect(Math.abs(sumSq / n - (sum / n) ** 2 - 1 / 12)).toBeLessThan(0.002);
    for (const d of deciles) expect(Math.abs(d - n / 10)).toBeLessThan(500); // sd ~95
  });

  it('shuffles into a permutation, the same one for the same seed', () => {
    const order = shuffledOrder(1000, seededRandom(3));
    expect(Array.from(order).sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(order)).toEqual(Array.from(shuffledOrder(1000, seededRandom(3))));
    expect(Array.from(order.subarray(0, 20))).not.toEqual(Array.from({ length: 20 }, (_, i) => i));
    const small = Uint32Array.from([5, 6]);
    expect(shuffle(small, () => 0)).toBe(small); // j = 0 swaps the two
    expect(Array.from(small)).toEqual([6, 5]);
    expect(Array.from(shuffle(new Uint32Array(0), Math.random))).toEqual([]);
  });
});
