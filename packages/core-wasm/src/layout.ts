// The engine's memory layout, defined once: the word indices of the job control block and the net descriptor that
// src/mlp.ts and src/threads.ts write and assembly/jobs.ts reads. This file is both TypeScript (src/) and
// AssemblyScript (assembly/jobs.ts imports it): plain integer constants only, each inferred as i32 there.
//
// All descriptors are arrays of 32-bit words in the instance's linear memory; pointers are byte addresses.

// ---- ctrl: the job control block (CTRL_BYTES), one per network, shared with the helper threads
/** Bumped per job: helpers wait on it. */
export const C_SEQ = 0;
/** Helpers that finished the current job. */
export const C_DONE = 1;
/** OP_* of the current job (OP_STOP ends the helpers). */
export const C_OP = 2;
/** The job's argument (OP_FORWARD: 1 = also softmax; OP_BACKWARD: layer | BACKWARD_* flags). */
export const C_ARG = 3;
/** Threads that share the job. */
export const C_THREADS = 4;
/** Set by a helper whose share aborted. */
export const C_ERROR = 5;
/** Pointer to the net descriptor. */
export const C_NET = 6;
/** Bytes of the control block. */
export const CTRL_BYTES = 64;

// ---- ops of assembly/jobs.ts run_job
export const OP_STOP = 0;
/** Logits into act[L-1]; arg 1: softmax into probs too. */
export const OP_FORWARD = 1;
/** Forward, per-row losses, and the logits' gradient (softmax - onehot) / batch into dlogits (N_DLOGITS). */
export const OP_TRAIN_FORWARD = 2;
/** Backward of one layer (dW, db, dX): arg = layer, plus BACKWARD_UPDATE to apply SGD to the layers now complete. */
export const OP_BACKWARD = 3;
/** Flag in OP_BACKWARD's arg: update the parameters; the layer index is arg & BACKWARD_LAYER_MASK. */
export const BACKWARD_UPDATE = 256;
export const BACKWARD_LAYER_MASK = 255;
/**
 * Flag in OP_BACKWARD's arg: layer 0 also computes its input gradient dX = dY W0 (the gradient w.r.t. the network
 * input, Mlp.inputGradients) into delta[L & 1]. Never with BACKWARD_UPDATE: that updates W0 in the same job.
 */
export const BACKWARD_INPUT = 512;
/** Flag in OP_BACKWARD's arg: skip dW and db (only the input gradient is wanted); dW and db keep their values. */
export const BACKWARD_NO_PARAMS = 1024;
/**
 * Flag in OP_BACKWARD's arg: also layer+1's dW and db (and its update, with BACKWARD_UPDATE), whose dX the training
 * forward already ran (TRAIN_FORWARD_DX): a step of 784-512-10 is 2 jobs instead of 3.
 */
export const BACKWARD_WITH_NEXT = 2048;
/** Flag in OP_TRAIN_FORWARD's arg: each thread also runs the last layer's dX for its rows (networks of 2+ layers). */
export const TRAIN_FORWARD_DX = 1;

// ---- net: the net descriptor, header words then NET_LAYER_WORDS words per layer from word NET_LAYER0
/** Number of Linear layers L. */
export const N_LAYERS = 0;
/** Rows of the current job's batch. */
export const N_BATCH = 1;
/** Input rows (batch x sizes[0] floats). */
export const N_X = 2;
/** Softmax output (batch x classes). */
export const N_PROBS = 3;
/** Target class per row (bytes). */
export const N_TARGETS = 4;
/** Cross-entropy per row. */
export const N_LOSSES = 5;
/** Two (batch x max width) gradient buffers used ping-pong: layer l < L-1's output gradient is in delta[(L-1-l) & 1]. */
export const N_DELTA0 = 6;
export const N_DELTA1 = 7;
/** Learning rate (f32). */
export const N_LR = 8;
/** SGD's momentum mu (f32). */
export const N_MU = 9;
/** OPT_FLAG_* bits of the current update (momentum buffers in use, first step, Nesterov, AMSGrad, no bias). */
export const N_OPT_FLAGS = 10;
/** Layer 0 skips zero inputs in rows with at most this many - 1 nonzero (0: dense only). */
export const N_SPARSE = 11;
/** Nonzero lists of the sparse path: dense_sparse_list_bytes(sizes[0]) per thread, at a 16-byte-aligned stride. */
export const N_NONZERO = 12;
/** The optimizer of the update: OPT_SGD, OPT_ADAM or OPT_ADAMW. */
export const N_OPT = 13;
/** Weight decay (f32): SGD and Adam add wd * p to the gradient. */
export const N_WD = 14;
/** SGD's dampening (f32): the momentum buffer adds (1 - dampening) * g after its first step. */
export const N_DAMP = 15;
/** Adam's beta1, 1 - beta1, beta2, 1 - beta2 (f32 each, the last two computed in f64 as PyTorch's Python floats). */
export const N_BETA1 = 16;
export const N_OMB1 = 17;
export const N_BETA2 = 18;
export const N_OMB2 = 19;
/** Adam's step size lr / (1 - beta1^t) and sqrt(1 - beta2^t), computed in f64 then rounded, as PyTorch does. */
export const N_STEP_SIZE = 20;
export const N_BC2_SQRT = 21;
/** Adam's eps (f32). */
export const N_EPS = 22;
/** AdamW's decoupled decay factor 1 - lr * wd (f32). */
export const N_DECAY = 23;
/** Label smoothing eps of the training forward (f32; 0: plain cross-entropy). */
export const N_SMOOTH = 24;
/** 1 during a training step: hidden layers with a dropout probability apply it (inference and evaluate never do). */
export const N_TRAINING = 25;
/** The dropout seed of the current training step (each row's mask is drawn from this seed, the layer and the row). */
export const N_DROP_SEED = 26;
/**
 * Per-thread scratch of the first layer's sparse weight gradient (dense_block_list_f32), N_BLOCK_ROWS batch rows each,
 * consecutive at a 16-byte-aligned stride; 0: layer 0's weight gradient runs the dense kernel.
 */
export const N_BLOCKS = 27;
export const N_BLOCK_ROWS = 28;
/** Set to 1 by a backward job that updated layer 0 and found a NaN or Inf among its new weights (the caller zeroes it). */
export const N_NONFINITE = 29;
/** The last layer's output gradient (batch x classes): dlogits of the training forward, or inputGradients' seed. */
export const N_DLOGITS = 30;
/** 1: the forward (inference and evaluate) runs the int8 layers of assembly/int8.ts (precision 'int8'). */
export const N_INT8 = 31;
/**
 * The int8 forward's quantized rows (batch rows of N_XQ_ROW = dense_i8_row_bytes(max width) bytes; a thread's rows
 * start at r0 * N_XQ_ROW in every layer, so threads never share bytes), and each row's scale (f32) and zero point (i32).
 */
export const N_XQ = 32;
export const N_XSCALE = 33;
export const N_XZP = 34;
export const N_XQ_ROW = 35;
/**
 * The training forward's input augmentation (Mlp.setAugmentation): a pointer to an AUGD_* block, or 0 (the rows of
 * N_X are the inputs as given). Set only during a trainBatch with an augmentSeed: each thread then warps its own rows
 * of the raw batch into N_X (assembly/augment.ts) and normalizes them before its forward.
 */
export const N_AUG = 36;
/** First word of layer 0's record. */
export const NET_LAYER0 = 40;

// ---- the augmentation block at N_AUG (i32 words unless marked f32)
/** The raw batch (rows x side^2, pixel / 255): what the caller passed, before any warp. */
export const AUGD_RAW = 0;
/** The per-image records (rows x AUG_WORDS words, src/augment-layout.ts). */
export const AUGD_PARAMS = 1;
/** The elastic field bank, or 0 (affine only). */
export const AUGD_BANK = 2;
/** Per-thread scratch of the SIMD kernel (augment_pad_bytes(side) each, AUGD_PAD_BYTES apart). */
export const AUGD_PADS = 3;
export const AUGD_PAD_BYTES = 4;
export const AUGD_SIDE = 5;
/** The bank's row stride in floats and its period - 1 (augment_f32's bankStride, bankMask). */
export const AUGD_BANK_STRIDE = 6;
export const AUGD_BANK_MASK = 7;
/** 1: the warped rows are then normalized, x = (x - mean) / std in f32 (AUGD_MEAN, AUGD_STD, f32). */
export const AUGD_NORMALIZE = 8;
export const AUGD_MEAN = 9;
export const AUGD_STD = 10;
/** Words in the block (16-byte multiple). */
export const AUGD_WORDS = 12;
/** Words per layer record. */
export const NET_LAYER_WORDS = 25;

// ---- a layer record (in -> out), at word NET_LAYER0 + NET_LAYER_WORDS * l
export const L_IN = 0;
export const L_OUT = 1;
/** Weight (out x in, PyTorch layout), the master copy. */
export const L_W = 2;
export const L_B = 3;
/** W^T and b in 8-column panels (dense_pack_f32): what the forward reads. */
export const L_PACKED = 4;
export const L_DW = 5;
export const L_DB = 6;
/** SGD's momentum buffers or Adam's exp_avg (0 until the first step that needs them). */
export const L_VW = 7;
export const L_VB = 8;
/** Activations (rows x out): a = f(z) for hidden layers (f = L_ACT_FN), the logits for the last. */
export const L_ACT = 9;
/** The activation f after this layer, an ACT_* code (ACT_IDENTITY for the last layer: logits stay linear). */
export const L_ACT_FN = 10;
/** f's parameter (f32): leaky_relu's negative slope, elu's alpha; 0 for the others. */
export const L_ACT_PARAM = 11;
/**
 * The saved pre-activation z (rows x out) where f's backward reads it (ACT_NEEDS_Z, and leaky_relu with a negative
 * slope), else 0: then the forward computes a = f(z) in place in L_ACT and the backward reads a.
 */
export const L_Z = 12;
/** Adam's exp_avg_sq for W and b (0 until the first Adam step). */
export const L_SW = 13;
export const L_SB = 14;
/** AMSGrad's max_exp_avg_sq for W and b (0 until the first AMSGrad step). */
export const L_MW = 15;
export const L_MB = 16;
/** LAYER_FLAG_* bits of this layer. */
export const L_FLAGS = 17;
/** The layer has no bias (PyTorch bias=False): b stays 0 and is never updated. */
export const LAYER_FLAG_NO_BIAS = 1;
/** Dropout after this hidden layer's activation while training: its probability p (f32, 0: none) and 1 / (1 - p). */
export const L_DROP_P = 18;
export const L_DROP_SCALE = 19;
/** The dropout mask of the current step (rows x out: 0 or 1 / (1 - p)) and the dropped activations a * mask. */
export const L_DROP_MASK = 20;
export const L_DROPPED = 21;
/** The int8 weights (dense_quantize_weight_i8: packed panels, each output's scale and weight sum), or 0. */
export const L_QPACKED = 22;
export const L_QSCALE = 23;
export const L_QROWSUM = 24;

// ---- optimizers (N_OPT) and their flags (N_OPT_FLAGS): assembly/optim.ts
export const OPT_SGD = 0;
export const OPT_ADAM = 1;
export const OPT_ADAMW = 2;
/** SGD: the momentum buffers L_VW/L_VB are in use. */
export const OPT_FLAG_MOMENTUM = 1;
/** SGD: the first step with momentum: the buffer starts as the gradient itself (PyTorch's clone), no dampening. */
export const OPT_FLAG_FIRST = 2;
/** SGD: Nesterov momentum (g + mu * buf). */
export const OPT_FLAG_NESTEROV = 4;
/** Adam/AdamW: AMSGrad (the denominator uses the running max of exp_avg_sq). */
export const OPT_FLAG_AMSGRAD = 8;

// ---- activation codes (L_ACT_FN): src/activations.ts maps the API's names to these, assembly/activations.ts
// dispatches on them (activation_forward_f32 / activation_backward_f32)
export const ACT_IDENTITY = 0;
export const ACT_RELU = 1;
export const ACT_LEAKY_RELU = 2;
export const ACT_SIGMOID = 3;
export const ACT_TANH = 4;
export const ACT_GELU = 5;
export const ACT_GELU_TANH = 6;
export const ACT_SILU = 7;
export const ACT_ELU = 8;
/**
 * Bit (1 << code) set: the derivative needs z itself (gelu, gelu_tanh, silu, elu: f' is a function of z that the
 * output does not give back exactly). relu, sigmoid and tanh differentiate from the output a, as PyTorch does
 * (a > 0; a (1 - a); 1 - a^2); leaky_relu from a while its slope is >= 0 (a > 0 exactly where z > 0), else from z.
 */
export const ACT_NEEDS_Z = (1 << ACT_GELU) | (1 << ACT_GELU_TANH) | (1 << ACT_SILU) | (1 << ACT_ELU);
