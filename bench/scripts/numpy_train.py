#!/usr/bin/python3
# NumPy/OpenBLAS peer of `pnpm bench`'s training table: 784-512-10 (ReLU), softmax cross-entropy and SGD with momentum
# (PyTorch's rule: buf = momentum * buf + g; p -= lr * buf) written as float32 matmuls, from the same initial weights
# on the same batches as the library's train(). Threads: OPENBLAS_NUM_THREADS, set by the caller.
# Usage: /usr/bin/python3 numpy_train.py WEIGHTS.bin ORDERS.bin SPEC_JSON DATA_DIR  (files from
#   bench/src/train-peers.ts; SPEC: {"lr": .., "momentum": .., "batch": B, "epochs": E}) -> one JSON line
import json, os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np
from weights_io import loaded_blas, mnist_arrays, read_train_input

spec = json.loads(sys.argv[3])
sizes, params, orders = read_train_input(sys.argv[1], sys.argv[2], spec['epochs'])
batch, lr, momentum = spec['batch'], np.float32(spec['lr']), np.float32(spec['momentum'])
x_train, y_train, x_test, y_test = mnist_arrays(sys.argv[4], sizes[0])
n_train = orders.shape[1]
# weights kept transposed (in x out): every product is a plain sgemm, and the gradients come out in the same layout
W = [np.ascontiguousarray(w.T) for w, _ in params]
b = [bias.copy() for _, bias in params]
vW = [np.zeros_like(w) for w in W]
vb = [np.zeros_like(v) for v in b]


def forward(x):
    acts = [x]
    for i in range(len(W)):
        z = acts[-1] @ W[i] + b[i]
        if i + 1 < len(W):
            np.maximum(z, 0, out=z)
        acts.append(z)
    return acts


def step(x, y):
    acts = forward(x)
    logits = acts[-1]
    m = logits.max(1, keepdims=True)
    e = np.exp(logits - m)
    s = e.sum(1, keepdims=True)
    n = len(y)
    rows = np.arange(n)
    loss = float(np.mean(np.log(s[:, 0]) + m[:, 0] - logits[rows, y]))
    dz = e / s
    dz[rows, y] -= 1
    dz /= np.float32(n)
    for i in range(len(W) - 1, -1, -1):
        gW = acts[i].T @ dz
        gb = dz.sum(0)
        if i > 0:
            dz = dz @ W[i].T
            dz *= acts[i] > 0
        vW[i] *= momentum; vW[i] += gW; W[i] -= lr * vW[i]
        vb[i] *= momentum; vb[i] += gb; b[i] -= lr * vb[i]
    return loss


result = {'numpy': np.__version__, 'blas': loaded_blas(),
          'openblas_threads': os.environ.get('OPENBLAS_NUM_THREADS', 'default (all cores)'),
          'epoch_seconds': [], 'accuracy': [], 'first_losses': []}
for e in range(len(orders)):
    t0 = time.perf_counter()
    for s in range(0, n_train, batch):
        idx = orders[e][s:s + batch]
        loss = step(x_train[idx], y_train[idx])
        if len(result['first_losses']) < 20:
            result['first_losses'].append(loss)
    result['epoch_seconds'].append(time.perf_counter() - t0)
    result['accuracy'].append(float(np.mean(forward(x_test)[-1].argmax(1) == y_test)))
print(json.dumps(result))
