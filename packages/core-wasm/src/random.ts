// Seeded randomness shared by the engine and the training loops that use it: mulberry32 (Mlp.create's init)
// and a Fisher-Yates batch order, so one seed gives the same run in the CLI, the web app and the bench.

/** mulberry32: a tiny, fast 32-bit generator; the same seed gives the same stream on every platform. Values in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates shuffle of `order` in place (returned for chaining), drawing from `random`. */
export function shuffle(order: Uint32Array, random: () => number): Uint32Array {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

/** 0..n-1 in a seeded random order: the batch order of one epoch. */
export function shuffledOrder(n: number, random: () => number): Uint32Array {
  return shuffle(
    Uint32Array.from({ length: n }, (_, i) => i),
    random,
  );
}
