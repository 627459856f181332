// The predicted class of a row of scores, the one implementation every caller uses (the Mlp, the CLI, the web app,
// the bench). Ties go to the lowest index, as torch.argmax does; a NaN never wins over a number (NaN > x is false),
// and a row that starts with NaN keeps index 0 unless a later value compares greater.

/** Index of the largest of values[start .. start+count-1], relative to start. */
export function argmax(values: ArrayLike<number>, start = 0, count = values.length - start): number {
  let best = 0,
    bestValue = values[start]!;
  for (let c = 1; c < count; c++) {
    const v = values[start + c]!;
    if (v > bestValue) {
      bestValue = v;
      best = c;
    }
  }
  return best;
}

/** argmax of each of `rows` consecutive rows of `cols` values. */
export function argmaxRows(values: ArrayLike<number>, rows: number, cols: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) out[r] = argmax(values, r * cols, cols);
  return out;
}
