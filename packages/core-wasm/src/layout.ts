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
/** The job's argument (OP_FORWARD: 1 = also softmax; OP_BACKWARD: layer | BACKWARD_UPDATE). */
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
/** Forward, per-row losses, and the logits' gradient (softmax - onehot) / batch into delta0. */
export const OP_TRAIN_FORWARD = 2;
/** Backward of one layer (dW, db, dX): arg = layer, plus BACKWARD_UPDATE to apply SGD to the layers now complete. */
export const OP_BACKWARD = 3;
/** Flag in OP_BACKWARD's arg: update the parameters; the layer index is arg & BACKWARD_LAYER_MASK. */
export const BACKWARD_UPDATE = 256;
export const BACKWARD_LAYER_MASK = 255;

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
/** Two (batch x max width) gradient buffers used ping-pong: layer l's output gradient is in delta[(L-1-l) & 1]. */
export const N_DELTA0 = 6;
export const N_DELTA1 = 7;
/** Learning rate (f32). */
export const N_LR = 8;
/** Momentum mu (f32). */
export const N_MU = 9;
/** 1: the update uses the momentum buffers. */
export const N_MOMENTUM = 10;
/** Layer 0 skips zero inputs in rows with at most this many - 1 nonzero (0: dense only). */
export const N_SPARSE = 11;
/** Nonzero lists of the sparse path: sizes[0] x 8 bytes per thread. */
export const N_NONZERO = 12;
/** First word of layer 0's record. */
export const NET_LAYER0 = 16;
/** Words per layer record. */
export const NET_LAYER_WORDS = 12;

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
/** Momentum buffers (0 until the first step with momentum). */
export const L_VW = 7;
export const L_VB = 8;
/** Activations (rows x out): ReLU(z) for hidden layers, the logits for the last. */
export const L_ACT = 9;
