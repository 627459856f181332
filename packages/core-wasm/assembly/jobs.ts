// Whole network passes (forward, loss, backward with the SGD update) as one thread's share of a job: the caller and
// each helper thread run run_job(ctrl, tid, threads) on the same descriptors, each on its own block of rows or outputs.

import {
  dense_forward_f32, dense_forward_sparse_f32, dense_backward_input_f32, dense_backward_weight_f32, dense_pack_panels_f32,
  dense_backward_bias_f32, dense_backward_weight_sparse_f32, dense_backward_weight_sparse_sgd_f32, dense_pack_bias_f32,
  dense_block_list_bytes, all_finite_rows_f32, dense_sparse_list_bytes,
} from './dense';
import { dense_quantize_rows_u7, dense_forward_i8 } from './int8';
import { activation_forward_f32, activation_backward_f32 } from './activations';
import {
  softmax_forward_f32, softmax_xent_forward_f32, softmax_xent_backward_rows_f32,
  softmax_xent_smooth_forward_f32, softmax_xent_smooth_backward_rows_f32,
} from './softmax_xent';
import { dropout_mask_f32, dropout_apply_f32 } from './dropout';
import { augment_f32, normalize_f32 } from './augment';
import { AUG_WORDS } from '../src/augment-layout';
import { sgd_step_f32, adam_step_f32 } from './optim';
import {
  C_ARG, C_NET, C_OP, OP_FORWARD, OP_TRAIN_FORWARD, OP_BACKWARD, BACKWARD_UPDATE, BACKWARD_LAYER_MASK, BACKWARD_INPUT,
  BACKWARD_NO_PARAMS, BACKWARD_WITH_NEXT, TRAIN_FORWARD_DX, N_DLOGITS,
  N_INT8, N_XQ, N_XQ_ROW, N_XSCALE, N_XZP, L_QPACKED, L_QSCALE, L_QROWSUM,
  N_LAYERS, N_BATCH, N_X, N_PROBS, N_TARGETS, N_LOSSES, N_DELTA0, N_LR, N_MU, N_SPARSE, N_NONZERO,
  N_OPT, N_OPT_FLAGS, N_WD, N_DAMP, N_BETA1, N_OMB1, N_BETA2, N_OMB2, N_STEP_SIZE, N_BC2_SQRT, N_EPS, N_DECAY, OPT_SGD,
  L_SW, L_SB, L_MW, L_MB, L_FLAGS, LAYER_FLAG_NO_BIAS,
  N_SMOOTH, N_TRAINING, N_DROP_SEED, L_DROP_P, L_DROP_SCALE, L_DROP_MASK, L_DROPPED, N_BLOCKS, N_BLOCK_ROWS, N_NONFINITE,
  N_AUG, AUGD_RAW, AUGD_PARAMS, AUGD_BANK, AUGD_PADS, AUGD_PAD_BYTES, AUGD_SIDE, AUGD_BANK_STRIDE, AUGD_BANK_MASK,
  AUGD_NORMALIZE, AUGD_MEAN, AUGD_STD,
  NET_LAYER0, NET_LAYER_WORDS, L_IN, L_OUT, L_W, L_B, L_PACKED, L_DW, L_DB, L_VW, L_VB, L_ACT, L_ACT_FN, L_ACT_PARAM, L_Z,
} from '../src/layout';

// Why splitting keeps the bits: every output is computed by exactly one thread, with the same kernel, summing in
// the same order as a one-thread call: the forward and dX by batch rows (a row's outputs never depend on another
// row), dW and db by output rows (each sums over the whole batch), the update by parameter rows. Boundaries are
// multiples of 4 rows / 8 outputs so no thread ever shares a SIMD group or a packed 8-column panel with another.
//
// Memory: the control block (ctrl) and the net descriptor (net) are arrays of i32 words whose layout is defined
// once, in src/layout.ts (C_*, N_*, L_*, OP_*), which src/mlp.ts and src/threads.ts also use. Rows of x, act, probs
// and losses are consecutive per layer width; the last layer's output gradient is in dlogits (batch, classes), and
// the two delta buffers are (batch, width) ping-pong buffers: layer l's output gradient lives in delta[(L-1-l) & 1]
// (l < L-1), its input gradient in delta[(L-l) & 1].
//
// A training step of L layers is L jobs: the forward with the losses, dlogits and the last layer's dX for its rows
// (OP_TRAIN_FORWARD with TRAIN_FORWARD_DX), then the backward of layer L-2 with the last layer's dW
// (BACKWARD_WITH_NEXT), then layers L-3 .. 0; each job updates the layers whose W no later job reads.

// @ts-ignore: decorator
@inline function word(p: usize, i: i32): i32 {
  return load<i32>(p + (<usize>i << 2));
}
// @ts-ignore: decorator
@inline function ptr(p: usize, i: i32): usize {
  return <usize>load<u32>(p + (<usize>i << 2));
}
// @ts-ignore: decorator
@inline function fword(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}
// @ts-ignore: decorator
@inline function layer(net: usize, l: i32): usize {
  return net + (<usize>(NET_LAYER0 + NET_LAYER_WORDS * l) << 2);
}

/** Start of thread tid's block when n items are cut into `threads` blocks on multiples of `align`. */
// @ts-ignore: decorator
@inline function split(n: i32, align: i32, tid: i32, threads: i32): i32 {
  const units = (n + align - 1) / align;
  return min(<i32>(<i64>units * tid / threads) * align, n);
}

/** Whether layer ly drops out in this job: training forward (mode 2, 3) of a training step, with p > 0. */
// @ts-ignore: decorator
@inline function dropping(net: usize, ly: usize, mode: i32): bool {
  return mode >= 2 && word(net, N_TRAINING) != 0 && fword(ly, L_DROP_P) != 0;
}

/** Where layer l's output gradient lives: dlogits for the last layer, else delta[(L-1-l) & 1]. */
// @ts-ignore: decorator
@inline function grad_out(net: usize, l: i32): usize {
  const L = word(net, N_LAYERS);
  return l == L - 1 ? ptr(net, N_DLOGITS) : ptr(net, N_DELTA0 + ((L - 1 - l) & 1));
}

/**
 * Forward over rows r0..r1-1 of the batch; mode 0 logits, 1 softmax too, 2 training (losses and dlogits), 3 training
 * and the last layer's input gradient for these rows (backward_rows: a row's needs only its own dlogits).
 */
function forward_rows(net: usize, r0: i32, r1: i32, mode: i32, tid: i32): void {
  const n = r1 - r0;
  if (n <= 0) return;
  const L = word(net, N_LAYERS);
  let inp = ptr(net, N_X) + ((<usize>r0 * word(layer(net, 0), L_IN)) << 2);
  const aug = mode >= 2 ? ptr(net, N_AUG) : 0;
  if (aug) {
    // a training step with augmentation: this thread's rows of the raw batch warped into x (each image depends only
    // on its own record, so any split of the rows gives the same bits), then normalized
    const C = word(layer(net, 0), L_IN);
    augment_f32(inp, ptr(aug, AUGD_RAW) + ((<usize>r0 * C) << 2), ptr(aug, AUGD_PARAMS) + <usize>r0 * (AUG_WORDS << 2),
      ptr(aug, AUGD_PADS) + <usize>tid * <usize>word(aug, AUGD_PAD_BYTES), ptr(aug, AUGD_BANK), n, word(aug, AUGD_SIDE),
      word(aug, AUGD_BANK_STRIDE), word(aug, AUGD_BANK_MASK));
    if (word(aug, AUGD_NORMALIZE)) normalize_f32(inp, n * C, fword(aug, AUGD_MEAN), fword(aug, AUGD_STD));
  }
  for (let l = 0; l < L; l++) {
    const ly = layer(net, l);
    const C = word(ly, L_IN), OC = word(ly, L_OUT);
    const out = ptr(ly, L_ACT) + ((<usize>r0 * OC) << 2);
    // z goes to its own buffer where the backward needs it, else straight into out and f runs in place
    const zs = ptr(ly, L_Z);
    const z = zs ? zs + ((<usize>r0 * OC) << 2) : out;
    const sparse = l == 0 ? word(net, N_SPARSE) : 0;
    if (word(net, N_INT8)) {
      // precision 'int8': this thread's rows quantized, then the integer layer (a row never depends on another)
      // this thread's block of the quantized rows (dense_i8_row_bytes(C) apart inside it) starts at the same byte
      // in every layer: another thread may still be reading its rows of the previous layer
      const xq = ptr(net, N_XQ) + <usize>r0 * word(net, N_XQ_ROW), xs = ptr(net, N_XSCALE) + (<usize>r0 << 2);
      const zp = ptr(net, N_XZP) + (<usize>r0 << 2);
      dense_quantize_rows_u7(xq, xs, zp, inp, n, C);
      dense_forward_i8(z, xq, xs, zp, ptr(ly, L_QPACKED), ptr(ly, L_QSCALE), ptr(ly, L_QROWSUM), ptr(ly, L_B), n, C, OC);
    } else if (sparse > 0) {
      // the same bits as the dense kernel, for any split of the rows (dense_forward_sparse_f32)
      const list = ptr(net, N_NONZERO) + <usize>tid * ((<usize>dense_sparse_list_bytes(C) + 15) & ~15);
      dense_forward_sparse_f32(z, inp, ptr(ly, L_PACKED), list, n, C, OC, sparse - 1);
    } else {
      dense_forward_f32(z, inp, ptr(ly, L_PACKED), n, C, OC);
    }
    // hidden layers only: the last layer's outputs are the logits (activations are elementwise, so any row split
    // gives the same bits: see load4 in assembly/simd.ts)
    if (l + 1 < L) activation_forward_f32(out, z, n * OC, word(ly, L_ACT_FN), fword(ly, L_ACT_PARAM));
    inp = out;
    if (l + 1 < L && dropping(net, ly, mode)) {
      // training with dropout: the next layer reads a * mask; a itself stays for the activation's backward
      const mask = ptr(ly, L_DROP_MASK) + ((<usize>r0 * OC) << 2);
      const dropped = ptr(ly, L_DROPPED) + ((<usize>r0 * OC) << 2);
      dropout_mask_f32(mask, r0, n, OC, fword(ly, L_DROP_P), fword(ly, L_DROP_SCALE), <u32>word(net, N_DROP_SEED), l);
      dropout_apply_f32(dropped, out, mask, n * OC);
      inp = dropped;
    }
  }
  const V = word(layer(net, L - 1), L_OUT);
  const probs = ptr(net, N_PROBS) + ((<usize>r0 * V) << 2);
  if (mode == 1) softmax_forward_f32(probs, inp, n, V);
  if (mode >= 2) {
    const targets = ptr(net, N_TARGETS) + <usize>r0;
    const losses = ptr(net, N_LOSSES) + (<usize>r0 << 2), dlogits = ptr(net, N_DLOGITS) + ((<usize>r0 * V) << 2);
    const eps = fword(net, N_SMOOTH);
    if (eps != 0) {
      softmax_xent_smooth_forward_f32(losses, probs, inp, targets, n, V, eps);
      softmax_xent_smooth_backward_rows_f32(dlogits, probs, targets, n, V, word(net, N_BATCH), eps);
    } else {
      softmax_xent_forward_f32(losses, probs, inp, targets, n, V);
      softmax_xent_backward_rows_f32(dlogits, probs, targets, n, V, word(net, N_BATCH));
    }
    if (mode == 3 && L > 1) backward_rows(net, L - 1, r0, r1);
  }
}

/**
 * The optimizer step (N_OPT: SGD, Adam or AdamW with the scalars in the net header) on n floats of a parameter block
 * and its gradient and state buffers, all at element offset e.
 */
function step_block(net: usize, p: usize, g: usize, v: usize, s: usize, m: usize, e: i32, n: i32): void {
  const off = <usize>e << 2;
  const flags = word(net, N_OPT_FLAGS);
  if (word(net, N_OPT) == OPT_SGD) {
    sgd_step_f32(p + off, g + off, v ? v + off : 0, n, fword(net, N_LR), fword(net, N_MU), fword(net, N_DAMP),
                 fword(net, N_WD), flags);
  } else {
    adam_step_f32(p + off, g + off, v + off, s + off, m ? m + off : 0, n, fword(net, N_BETA1), fword(net, N_OMB1),
                  fword(net, N_BETA2), fword(net, N_OMB2), fword(net, N_STEP_SIZE), fword(net, N_BC2_SQRT),
                  fword(net, N_EPS), fword(net, N_WD), fword(net, N_DECAY), flags);
  }
}

/**
 * The optimizer step on output rows o0..o1-1 of layer ly (W, b and their state), then repacks their forward panels.
 * Layer 0 (check) also reports a non-finite new weight in N_NONFINITE (whether its forward may skip zero inputs).
 */
function update_rows(net: usize, ly: usize, o0: i32, o1: i32, check: bool): void {
  if (o1 <= o0) return;
  const C = word(ly, L_IN), OC = word(ly, L_OUT);
  step_block(net, ptr(ly, L_W), ptr(ly, L_DW), ptr(ly, L_VW), ptr(ly, L_SW), ptr(ly, L_MW), o0 * C, (o1 - o0) * C);
  // a layer without bias (bias=False) keeps b = 0 and no optimizer state for it, as in PyTorch
  if (!(word(ly, L_FLAGS) & LAYER_FLAG_NO_BIAS)) {
    step_block(net, ptr(ly, L_B), ptr(ly, L_DB), ptr(ly, L_VB), ptr(ly, L_SB), ptr(ly, L_MB), o0, o1 - o0);
  }
  dense_pack_panels_f32(ptr(ly, L_PACKED), ptr(ly, L_W), ptr(ly, L_B), OC, C, o0 >> 3, (o1 + 7) >> 3);
  if (check && !all_finite_rows_f32(ptr(ly, L_W) + ((<usize>o0 * C) << 2), 1, (o1 - o0) * C, 0)) {
    store<i32>(net + (<usize>N_NONFINITE << 2), 1);
  }
}

/**
 * Layer 0's dW and db for output rows o0..o1-1 skipping the input's zeros (dense_backward_weight_sparse_f32), with
 * the SGD step fused in when `update` and the batch fits one block list. Returns false, having done nothing, where
 * the dense kernel must run: the block lists are off (N_BLOCKS 0) or dout holds a NaN or Inf (the dense sums are NaN
 * there, see dense.ts). Returns true when done; with `update`, the rows are then updated too.
 */
function backward_weight_sparse(net: usize, ly: usize, dout: usize, inp: usize, o0: i32, o1: i32, tid: i32,
                                update: bool): bool {
  const blocks = ptr(net, N_BLOCKS);
  if (!blocks) return false;
  const B = word(net, N_BATCH), C = word(ly, L_IN), OC = word(ly, L_OUT);
  if (!all_finite_rows_f32(dout + (<usize>o0 << 2), B, o1 - o0, OC)) return false;
  const R = word(net, N_BLOCK_ROWS);
  const list = blocks + <usize>tid * ((<usize>dense_block_list_bytes(R, C) + 15) & ~15);
  const dW = ptr(ly, L_DW), db = ptr(ly, L_DB);
  memory.fill(db + (<usize>o0 << 2), 0, <usize>(o1 - o0) << 2);
  if (update && word(net, N_OPT) == OPT_SGD && B <= R) {
    dense_backward_bias_f32(db, dout, B, OC, o0, o1);
    const W = ptr(ly, L_W), b = ptr(ly, L_B);
    const finite = dense_backward_weight_sparse_sgd_f32(W, ptr(ly, L_PACKED), ptr(ly, L_VW), dout, inp, list, B, C, OC,
      o0, o1, fword(net, N_LR), fword(net, N_MU), fword(net, N_DAMP), fword(net, N_WD), word(net, N_OPT_FLAGS));
    if (!(word(ly, L_FLAGS) & LAYER_FLAG_NO_BIAS)) {
      step_block(net, b, db, ptr(ly, L_VB), ptr(ly, L_SB), ptr(ly, L_MB), o0, o1 - o0);
    }
    dense_pack_bias_f32(ptr(ly, L_PACKED), b, OC, C, o0 >> 3, (o1 + 7) >> 3);
    if (!finite) store<i32>(net + (<usize>N_NONFINITE << 2), 1);
    return true;
  }
  memory.fill(dW + ((<usize>o0 * C) << 2), 0, (<usize>(o1 - o0) * C) << 2);
  // batches larger than a list in chunks of R rows: the sums continue in b order, so the bits are the same
  for (let b0 = 0; b0 < B; b0 += R) {
    const n = min(R, B - b0);
    dense_backward_weight_sparse_f32(dW, db, dout + ((<usize>b0 * OC) << 2), inp + ((<usize>b0 * C) << 2), list,
      n, C, OC, o0, o1);
  }
  if (update) update_rows(net, ly, o0, o1, true);
  return true;
}

/**
 * Rows r0..r1-1 of layer l's input gradient dX = dY W_l, through the dropout and the activation of layer l-1 (its f'
 * reads a_{l-1} or z_{l-1}) into delta[(L-l) & 1]; for layer 0 that is the gradient w.r.t. the network input.
 */
function backward_rows(net: usize, l: i32, r0: i32, r1: i32): void {
  if (r1 <= r0) return;
  const L = word(net, N_LAYERS);
  const ly = layer(net, l);
  const C = word(ly, L_IN), OC = word(ly, L_OUT);
  const row = (<usize>r0 * C) << 2;
  const dinp = ptr(net, N_DELTA0 + ((L - l) & 1)) + row;
  dense_backward_input_f32(dinp, grad_out(net, l) + ((<usize>r0 * OC) << 2), ptr(ly, L_W), r1 - r0, C, OC);
  if (l == 0) return;
  const prev = layer(net, l - 1);
  // through the dropout (the same mask), then the activation, which reads the undropped a (or z)
  if (dropping(net, prev, 2)) dropout_apply_f32(dinp, dinp, ptr(prev, L_DROP_MASK) + row, (r1 - r0) * C);
  const zs = ptr(prev, L_Z);
  const a = ptr(prev, L_ACT) + row;
  activation_backward_f32(dinp, dinp, zs ? zs + row : 0, a, (r1 - r0) * C, word(prev, L_ACT_FN), fword(prev, L_ACT_PARAM));
}

/**
 * Layer l's dW and db for this thread's output rows (blocks of 8), zeroed first (the kernels accumulate); with
 * `update` the rows are updated too where that is safe now (layer 0 always; others are updated by the caller once
 * their W is no longer read). Returns whether the rows were updated.
 */
function backward_params(net: usize, l: i32, update: bool, tid: i32, threads: i32): bool {
  const B = word(net, N_BATCH);
  const ly = layer(net, l);
  const C = word(ly, L_IN), OC = word(ly, L_OUT);
  const o0 = split(OC, 8, tid, threads), o1 = split(OC, 8, tid + 1, threads);
  if (o1 <= o0) return true;
  const dout = grad_out(net, l);
  // the input the forward used: a of layer l-1, or a * mask where it dropped out
  const inp = l > 0 ? ptr(layer(net, l - 1), dropping(net, layer(net, l - 1), 2) ? L_DROPPED : L_ACT) : ptr(net, N_X);
  if (l == 0 && backward_weight_sparse(net, ly, dout, inp, o0, o1, tid, update)) return update;
  memory.fill(ptr(ly, L_DW) + ((<usize>o0 * C) << 2), 0, (<usize>(o1 - o0) * C) << 2);
  memory.fill(ptr(ly, L_DB) + (<usize>o0 << 2), 0, <usize>(o1 - o0) << 2);
  dense_backward_weight_f32(ptr(ly, L_DW), ptr(ly, L_DB), dout, inp, B, C, OC, o0, o1);
  if (update && l == 0) {
    update_rows(net, ly, o0, o1, true);
    return true;
  }
  return false;
}

/**
 * Backward of layer l for this thread's outputs (dW, db; skipped with BACKWARD_NO_PARAMS) and rows (dX, through the
 * activation of layer l-1; for layer 0 only with BACKWARD_INPUT: the gradient w.r.t. the network input). With
 * BACKWARD_UPDATE, layer l+1 is updated (its W was last read by the previous job), and layer 0 at once (this job
 * reads W_0 only for BACKWARD_INPUT, which never comes with an update). With BACKWARD_WITH_NEXT, layer l+1's dW and
 * db are computed here too (the training forward ran its dX: mode 3), and updated at once.
 */
function backward_layer(net: usize, l: i32, flags: i32, tid: i32, threads: i32): void {
  const update = (flags & BACKWARD_UPDATE) != 0;
  const L = word(net, N_LAYERS), B = word(net, N_BATCH);
  if (!(flags & BACKWARD_NO_PARAMS)) {
    if (flags & BACKWARD_WITH_NEXT) backward_params(net, l + 1, false, tid, threads);
    backward_params(net, l, update, tid, threads);
  }
  if (update && l + 1 < L) {
    const next = layer(net, l + 1);
    const NOC = word(next, L_OUT);
    update_rows(net, next, split(NOC, 8, tid, threads), split(NOC, 8, tid + 1, threads), false);
  }
  if (l > 0 || (flags & BACKWARD_INPUT)) backward_rows(net, l, split(B, 4, tid, threads), split(B, 4, tid + 1, threads));
}

/** Thread tid's share (0 <= tid < threads) of the job described at ctrl. The caller runs tid 0. */
export function run_job(ctrl: usize, tid: i32, threads: i32): void {
  const op = word(ctrl, C_OP), arg = word(ctrl, C_ARG);
  const net = ptr(ctrl, C_NET);
  const B = word(net, N_BATCH);
  if (op == OP_FORWARD || op == OP_TRAIN_FORWARD) {
    const mode = op == OP_TRAIN_FORWARD ? (arg & TRAIN_FORWARD_DX ? 3 : 2) : arg;
    forward_rows(net, split(B, 4, tid, threads), split(B, 4, tid + 1, threads), mode, tid);
  } else if (op == OP_BACKWARD) {
    backward_layer(net, arg & BACKWARD_LAYER_MASK, arg, tid, threads);
  }
}
