#!/usr/bin/python3
# NumPy peer of the inference table: the same network as batched float32 matmuls (np.matmul on the BLAS NumPy was
# built with: OpenBLAS with Debian's libopenblas0-pthread; its threads from OPENBLAS_NUM_THREADS, set by the caller)
# over the MNIST test images at each batch size.
# Usage: /usr/bin/python3 numpy_infer.py WEIGHTS.bin DATA_DIR PASSES BATCHES BATCH1_IMAGES
#   (BATCHES comma-separated) -> one JSON line: ms per pass by batch size, predictions, BLAS info
import json, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np
from weights_io import loaded_blas, read_idx, read_weights, time_batches

sizes, params = read_weights(sys.argv[1])
data_dir, passes = sys.argv[2], int(sys.argv[3])
batches, batch1_images = [int(b) for b in sys.argv[4].split(',')], int(sys.argv[5])
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


result = {'numpy': np.__version__, 'passes': time_batches(forward, x, batches, passes, batch1_images)}
preds = np.concatenate([forward(x[s:s + 256]).argmax(1) for s in range(0, len(x), 256)])
result['predictions'] = preds.astype(int).tolist()
result['blas'] = loaded_blas()
result['openblas_threads'] = os.environ.get('OPENBLAS_NUM_THREADS', 'default (all cores)')
result['openblas_coretype'] = os.environ.get('OPENBLAS_CORETYPE', '')
print(json.dumps(result))
