// Seeded random numbers, deterministic across platforms (mulberry32), shared by the tests (test/seeded.ts) and the
// preview script, so both draw the same data from the same seed.

/** A generator of uniform numbers in [0, 1) from a 32-bit seed. */
export function mulberry32(seed) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
