#!/usr/bin/python3
# PyTorch peer of the inference table: the same network as nn.Sequential(Linear, ReLU, Linear) in eval mode under
# torch.inference_mode(), torch.set_num_threads(THREADS) (the caller also sets OMP_NUM_THREADS and
# OPENBLAS_NUM_THREADS: Debian's torch multiplies on OpenBLAS), over the MNIST test images at each batch size.
# Usage: /usr/bin/python3 torch_infer.py WEIGHTS.bin DATA_DIR THREADS PASSES BATCHES BATCH1_IMAGES
#   -> one JSON line: ms per pass by batch size, predictions, versions
import json, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np
import torch
from weights_io import loaded_blas, read_idx, read_weights, time_batches, torch_mlp

sizes, params = read_weights(sys.argv[1])
data_dir, threads, passes = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
batches, batch1_images = [int(b) for b in sys.argv[5].split(',')], int(sys.argv[6])
torch.set_num_threads(threads)
x = torch.from_numpy(read_idx(data_dir, 't10k-images-idx3-ubyte').reshape(-1, sizes[0]).astype(np.float32) / np.float32(255))
model = torch_mlp(sizes, params).eval()

with torch.inference_mode():
    result = {'torch': torch.__version__, 'threads': torch.get_num_threads(),
              'passes': time_batches(model, x, batches, passes, batch1_images)}
    preds = torch.cat([model(x[s:s + 256]).argmax(1) for s in range(0, len(x), 256)])
result['predictions'] = preds.tolist()
result['blas'] = loaded_blas()
print(json.dumps(result))
