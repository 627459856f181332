#!/usr/bin/python3
# PyTorch peer for `pnpm bench`'s training table: trains 784-512-10 (ReLU) with SGD on MNIST from the SAME initial
# weights and the SAME per-epoch shuffle the benchmark gives it, so accuracy and loss compare one to one.
# Usage: /usr/bin/python3 pytorch_train.py INPUT.bin EPOCHS  (INPUT written by bench/src/pytorch.ts); prints JSON.
import json, os, struct, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np
import torch
from weights_io import read_idx, torch_mlp

torch.set_num_threads(1)  # the benchmark compares one thread with one thread
path, epochs = sys.argv[1], int(sys.argv[2])
raw = open(path, 'rb').read()
# header: 'MLPB', then u32 count of sizes, sizes, u32 n_train, u32 epochs_in_file, u32 batch, f32 lr
assert raw[:4] == b'MLPB', 'not a bench input file'
off = 4
(nsizes,) = struct.unpack_from('<I', raw, off); off += 4
sizes = struct.unpack_from(f'<{nsizes}I', raw, off); off += 4 * nsizes
n_train, n_epochs_file, batch = struct.unpack_from('<3I', raw, off); off += 12
(lr,) = struct.unpack_from('<f', raw, off); off += 4
params = []
for i in range(nsizes - 1):
    n_w = sizes[i + 1] * sizes[i]
    w = np.frombuffer(raw, dtype='<f4', count=n_w, offset=off).reshape(sizes[i + 1], sizes[i]); off += 4 * n_w
    b = np.frombuffer(raw, dtype='<f4', count=sizes[i + 1], offset=off); off += 4 * sizes[i + 1]
    params.append((w, b))
orders = np.frombuffer(raw, dtype='<u4', count=n_train * n_epochs_file, offset=off).reshape(n_epochs_file, n_train).astype(np.int64)
data_dir = sys.argv[3]
x_train = torch.from_numpy(read_idx(data_dir, 'train-images-idx3-ubyte').reshape(-1, sizes[0]).astype(np.float32) / np.float32(255))
y_train = torch.from_numpy(read_idx(data_dir, 'train-labels-idx1-ubyte').astype(np.int64))
x_test = torch.from_numpy(read_idx(data_dir, 't10k-images-idx3-ubyte').reshape(-1, sizes[0]).astype(np.float32) / np.float32(255))
y_test = torch.from_numpy(read_idx(data_dir, 't10k-labels-idx1-ubyte').astype(np.int64))
model = torch_mlp(sizes, params)
opt = torch.optim.SGD(model.parameters(), lr=lr)
result = {'torch': torch.__version__, 'threads': torch.get_num_threads(), 'epoch_seconds': [], 'accuracy': [], 'first_losses': []}
for e in range(epochs):
    order = torch.from_numpy(orders[e])
    t0 = time.perf_counter()
    for s in range(0, n_train - batch + 1, batch):
        idx = order[s:s + batch]
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x_train[idx]), y_train[idx])
        loss.backward()
        opt.step()
        if e == 0 and s < 20 * batch:
            result['first_losses'].append(loss.item())
    result['epoch_seconds'].append(time.perf_counter() - t0)
    with torch.no_grad():
        result['accuracy'].append((model(x_test).argmax(1) == y_test).float().mean().item())
print(json.dumps(result))
