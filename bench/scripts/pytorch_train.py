#!/usr/bin/python3
# PyTorch peer for `pnpm bench`'s training table: trains 784-512-10 (ReLU) with SGD on MNIST from the SAME initial
# weights and the SAME per-epoch shuffle the benchmark gives it, so accuracy and loss compare one to one.
# Usage: /usr/bin/python3 pytorch_train.py INPUT.bin EPOCHS  (INPUT written by bench/src/pytorch.ts); prints JSON.
import json, os, struct, sys, time
import numpy as np
import torch

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


def read_idx(name, magic):
    with open(os.path.join(data_dir, name), 'rb') as f:
        d = f.read()
    (m,) = struct.unpack('>I', d[:4])
    assert m == magic
    ndim = m & 0xff
    dims = struct.unpack('>' + 'I' * ndim, d[4:4 + 4 * ndim])
    return np.frombuffer(d, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


x_train = torch.from_numpy(read_idx('train-images-idx3-ubyte', 0x803).reshape(-1, 784).astype(np.float32) / np.float32(255))
y_train = torch.from_numpy(read_idx('train-labels-idx1-ubyte', 0x801).astype(np.int64))
x_test = torch.from_numpy(read_idx('t10k-images-idx3-ubyte', 0x803).reshape(-1, 784).astype(np.float32) / np.float32(255))
y_test = torch.from_numpy(read_idx('t10k-labels-idx1-ubyte', 0x801).astype(np.int64))

layers = []
for i, (w, b) in enumerate(params):
    lin = torch.nn.Linear(sizes[i], sizes[i + 1])
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(w.copy()))
        lin.bias.copy_(torch.from_numpy(b.copy()))
    layers.append(lin)
    if i + 2 < nsizes:
        layers.append(torch.nn.ReLU())
model = torch.nn.Sequential(*layers)
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
