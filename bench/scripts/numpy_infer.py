#!/usr/bin/python3
# NumPy peer of the inference table: the same network as batched float32 matmuls (np.matmul on the BLAS NumPy was
# built with: OpenBLAS with Debian's libopenblas0-pthread), over the MNIST test images at batch 1, 64 and 256.
# Usage: /usr/bin/python3 numpy_infer.py WEIGHTS.bin DATA_DIR RUNS  -> one JSON line (rates, predictions, BLAS info)
import json, os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np
from weights_io import read_idx, read_weights

sizes, params = read_weights(sys.argv[1])
data_dir, runs = sys.argv[2], int(sys.argv[3])
x = read_idx(data_dir, 't10k-images-idx3-ubyte').reshape(-1, sizes[0]).astype(np.float32) / np.float32(255)
# y = x W^T + b with W^T stored contiguous (in x out), the layout a BLAS sgemm reads best
layers = [(np.ascontiguousarray(w.T), b) for w, b in params]


def forward(xb):
    h = xb
    for i, (wt, b) in enumerate(layers):
        h = h @ wt + b
        if i + 1 < len(layers):
            np.maximum(h, 0, out=h)
    return h


def pass_over(batch, count):
    out = None
    for s in range(0, count, batch):
        out = forward(x[s:s + batch])
    return out


result = {'numpy': np.__version__, 'rates': {}}
for batch, count in ((1, 2000), (64, 10000), (256, 10000)):
    pass_over(batch, min(count, 2560))  # warm-up
    times = []
    for _ in range(runs if batch > 1 else max(1, runs // 2)):
        t0 = time.perf_counter()
        pass_over(batch, count)
        times.append(time.perf_counter() - t0)
    times.sort()
    result['rates'][str(batch)] = {'median': count / times[len(times) // 2], 'best': count / times[0], 'images': count}
preds = np.concatenate([forward(x[s:s + 256]).argmax(1) for s in range(0, len(x), 256)])
result['predictions'] = preds.astype(int).tolist()
# which BLAS library the process really loaded (Debian switches it with update-alternatives)
try:
    libs = sorted({l.split()[-1] for l in open('/proc/self/maps') if 'blas' in l.lower() and '/' in l})
    result['blas'] = ' '.join(os.path.realpath(p) for p in libs) or 'unknown'
except OSError:
    result['blas'] = 'unknown'
result['openblas_threads'] = os.environ.get('OPENBLAS_NUM_THREADS', 'default (all cores)')
result['openblas_coretype'] = os.environ.get('OPENBLAS_CORETYPE', '')
print(json.dumps(result))
