# What the Python peers share: the weights file bench/src/weights.ts writes ('MLPW', u32 layer count, u32 sizes, then
# per layer the weight (out x in, PyTorch layout) and bias as little-endian float32), so every peer runs the very same
# numbers; the network those weights make in torch; the MNIST IDX files; the training input (initial weights and the
# driver's batch orders); and the inference timing loop every Python peer runs (as bench/src/inference.ts does).
import os
import struct
import numpy as np


def read_weights(path):
    raw = open(path, 'rb').read()
    assert raw[:4] == b'MLPW', f'{path}: not a bench weights file'
    (n,) = struct.unpack_from('<I', raw, 4)
    sizes = struct.unpack_from(f'<{n + 1}I', raw, 8)
    off = 8 + 4 * (n + 1)
    layers = []
    for i in range(n):
        count = sizes[i + 1] * sizes[i]
        w = np.frombuffer(raw, dtype='<f4', count=count, offset=off).reshape(sizes[i + 1], sizes[i]); off += 4 * count
        b = np.frombuffer(raw, dtype='<f4', count=sizes[i + 1], offset=off); off += 4 * sizes[i + 1]
        layers.append((w, b))
    return sizes, layers


def torch_mlp(sizes, params):
    """nn.Sequential of Linear layers (PyTorch layout weights, copied in) with ReLU between them."""
    import torch  # only the torch peers need it
    mods = []
    for i, (w, b) in enumerate(params):
        lin = torch.nn.Linear(sizes[i], sizes[i + 1])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w.copy()))
            lin.bias.copy_(torch.from_numpy(b.copy()))
        mods.append(lin)
        if i + 1 < len(params):
            mods.append(torch.nn.ReLU())
    return torch.nn.Sequential(*mods)


def read_idx(data_dir, name):
    """An IDX file of unsigned bytes as an array of its dimensions (images: count x rows x cols)."""
    with open(os.path.join(data_dir, name), 'rb') as f:
        d = f.read()
    (magic,) = struct.unpack('>I', d[:4])
    assert magic >> 8 == 0x08, f'{name}: not an IDX file of unsigned bytes'
    ndim = magic & 0xff
    dims = struct.unpack('>' + 'I' * ndim, d[4:4 + 4 * ndim])
    return np.frombuffer(d, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def time_batches(forward, x, batches, passes, batch1_images):
    """Inference timing, as bench/src/inference.ts does it: per batch size, one warm-up pass, then `passes` timed passes
    (batch 1: half as many, over the first batch1_images images) over x in batches; wall milliseconds of each pass.
    Returns {batch: {'images': n, 'ms': [...]}} with string keys, as the JSON the bench reads."""
    import time
    out = {}
    for batch in batches:
        count = min(batch1_images, len(x)) if batch == 1 else len(x)

        def one_pass():
            for s in range(0, count, batch):
                forward(x[s:s + batch])

        one_pass()
        ms = []
        for _ in range(max(1, passes // 2) if batch == 1 else passes):
            t0 = time.perf_counter()
            one_pass()
            ms.append((time.perf_counter() - t0) * 1000)
        out[str(batch)] = {'images': count, 'ms': ms}
    return out


def read_train_input(weights_path, orders_path, epochs):
    """The training peers' input (bench/src/train-peers.ts): the initial weights (read_weights) and one order of the
    training images per epoch (little-endian u32, epoch after epoch), as int64 rows."""
    sizes, params = read_weights(weights_path)
    orders = np.fromfile(orders_path, dtype='<u4').reshape(epochs, -1).astype(np.int64)
    return sizes, params, orders


def mnist_arrays(data_dir, inputs):
    """Train and test images as float32 x / 255 (the network's inputs) and labels as int64."""
    def images(name):
        return read_idx(data_dir, name).reshape(-1, inputs).astype(np.float32) / np.float32(255)
    return (images('train-images-idx3-ubyte'), read_idx(data_dir, 'train-labels-idx1-ubyte').astype(np.int64),
            images('t10k-images-idx3-ubyte'), read_idx(data_dir, 't10k-labels-idx1-ubyte').astype(np.int64))


def loaded_blas():
    """The BLAS library this process really loaded (Debian switches it with update-alternatives)."""
    try:
        libs = sorted({l.split()[-1] for l in open('/proc/self/maps') if 'blas' in l.lower() and '/' in l})
        return ' '.join(os.path.realpath(p) for p in libs) or 'unknown'
    except OSError:
        return 'unknown'
