// Softmax + cross-entropy: per-row probabilities, the mean loss over a batch, and its gradient (softmax - onehot) / B.
// Rows are short (10 classes), so there is one scalar kernel, no SIMD twin. Log-sum-exp keeps +-1e4 logits finite.

// ----------------------------------------------------------------------------
// softmax forward
// probs is (B,V), logits is (B,V)

/** probs[b,:] = exp(logits[b,:] - max) / sum exp(logits[b,:] - max). A NaN anywhere in a row makes the row NaN. */
export function softmax_forward_f32(probs: usize, logits: usize, B: i32, V: i32): void {
  for (let b = 0; b < B; b++) {
    const row = logits + ((<usize>b * V) << 2);
    const prow = probs + ((<usize>b * V) << 2);
    // the max is only subtracted for numerical stability; f32 max() propagates NaN on purpose
    let maxval: f32 = -Infinity;
    for (let v = 0; v < V; v++) maxval = max<f32>(maxval, load<f32>(row + (<usize>v << 2)));
    let sum: f32 = 0;
    for (let v = 0; v < V; v++) {
      const e = Mathf.exp(load<f32>(row + (<usize>v << 2)) - maxval);
      store<f32>(prow + (<usize>v << 2), e);
      sum += e;
    }
    const inv: f32 = 1 / sum;
    for (let v = 0; v < V; v++) {
      const p = prow + (<usize>v << 2);
      store<f32>(p, load<f32>(p) * inv);
    }
  }
}

// ----------------------------------------------------------------------------
// cross-entropy forward, fused with the softmax
// losses is (B) or 0, probs is (B,V), logits is (B,V), targets is (B) bytes; returns the mean loss over the batch
// loss[b] = logsumexp(logits[b,:]) - logits[b,targets[b]] computed as (max - logit_t) + log(sum exp(logit - max)),
// so neither term overflows. Targets must be < V (the caller checks).

export function softmax_xent_forward_f32(losses: usize, probs: usize, logits: usize, targets: usize,
                                         B: i32, V: i32): f64 {
  softmax_forward_f32(probs, logits, B, V);
  let total: f64 = 0;
  for (let b = 0; b < B; b++) {
    const row = logits + ((<usize>b * V) << 2);
    const t = <usize>load<u8>(targets + <usize>b);
    let maxval: f32 = -Infinity;
    for (let v = 0; v < V; v++) maxval = max<f32>(maxval, load<f32>(row + (<usize>v << 2)));
    let sum: f32 = 0;
    for (let v = 0; v < V; v++) sum += Mathf.exp(load<f32>(row + (<usize>v << 2)) - maxval);
    const loss: f32 = (maxval - load<f32>(row + (t << 2))) + Mathf.log(sum);
    if (losses) store<f32>(losses + (<usize>b << 2), loss);
    total += <f64>loss;
  }
  return B > 0 ? total / <f64>B : 0;
}

// ----------------------------------------------------------------------------
// cross-entropy backward
// dlogits is (B,V), probs is (B,V) from the forward, targets is (B); dlogits is overwritten (start of the backward pass)
// dlogits[b,v] = (probs[b,v] - [v == targets[b]]) / B, the gradient of the mean loss.

export function softmax_xent_backward_f32(dlogits: usize, probs: usize, targets: usize, B: i32, V: i32): void {
  softmax_xent_backward_rows_f32(dlogits, probs, targets, B, V, B);
}

/** Rows 0..n-1 of a batch of `batch` rows (a thread's share: pointers offset to its first row); scale 1 / batch. */
export function softmax_xent_backward_rows_f32(dlogits: usize, probs: usize, targets: usize, n: i32, V: i32, batch: i32): void {
  const scale: f32 = batch > 0 ? <f32>1 / <f32>batch : 0;
  for (let b = 0; b < n; b++) {
    const t = <i32>load<u8>(targets + <usize>b);
    for (let v = 0; v < V; v++) {
      const p = ((<usize>b * V + v) << 2);
      const indicator: f32 = v == t ? 1 : 0;
      store<f32>(dlogits + p, (load<f32>(probs + p) - indicator) * scale);
    }
  }
}

// ----------------------------------------------------------------------------
// cross-entropy with label smoothing eps (PyTorch's nn.CrossEntropyLoss(label_smoothing=eps)): the target
// distribution is q = (1 - eps) onehot + eps / V, so
//   loss[b] = (1 - eps) (lse - logit_t) + (eps / V) sum_v (lse - logit_v)      (lse = max + log sum exp(logit - max))
//   dlogits[b,v] = (probs[b,v] - q_v) / B
// eps = 0 gives the same bits as softmax_xent_forward_f32 / softmax_xent_backward_rows_f32 except for the extra terms'
// rounding, so the engine calls these only when eps > 0.

/** Fused softmax + smoothed cross-entropy forward; returns the mean loss. */
export function softmax_xent_smooth_forward_f32(losses: usize, probs: usize, logits: usize, targets: usize,
                                                B: i32, V: i32, eps: f32): f64 {
  softmax_forward_f32(probs, logits, B, V);
  let total: f64 = 0;
  const w: f32 = eps / <f32>V;
  for (let b = 0; b < B; b++) {
    const row = logits + ((<usize>b * V) << 2);
    const t = <usize>load<u8>(targets + <usize>b);
    let maxval: f32 = -Infinity;
    for (let v = 0; v < V; v++) maxval = max<f32>(maxval, load<f32>(row + (<usize>v << 2)));
    let sum: f32 = 0;
    for (let v = 0; v < V; v++) sum += Mathf.exp(load<f32>(row + (<usize>v << 2)) - maxval);
    const lse: f32 = maxval + Mathf.log(sum);
    let smooth: f32 = 0;
    for (let v = 0; v < V; v++) smooth += lse - load<f32>(row + (<usize>v << 2));
    const nll: f32 = (maxval - load<f32>(row + (t << 2))) + Mathf.log(sum);
    const loss: f32 = (<f32>1 - eps) * nll + w * smooth;
    if (losses) store<f32>(losses + (<usize>b << 2), loss);
    total += <f64>loss;
  }
  return B > 0 ? total / <f64>B : 0;
}

/** Rows 0..n-1 of a batch of `batch` rows: dlogits = (probs - q) / batch with the smoothed targets q. */
export function softmax_xent_smooth_backward_rows_f32(dlogits: usize, probs: usize, targets: usize, n: i32, V: i32,
                                                      batch: i32, eps: f32): void {
  const scale: f32 = batch > 0 ? <f32>1 / <f32>batch : 0;
  const off: f32 = eps / <f32>V;
  const on: f32 = <f32>1 - eps + off;
  for (let b = 0; b < n; b++) {
    const t = <i32>load<u8>(targets + <usize>b);
    for (let v = 0; v < V; v++) {
      const p = ((<usize>b * V + v) << 2);
      store<f32>(dlogits + p, (load<f32>(probs + p) - (v == t ? on : off)) * scale);
    }
  }
}
