// Types of random.mjs for the TypeScript tests that import it.
export function mulberry32(seed: number): () => number;
