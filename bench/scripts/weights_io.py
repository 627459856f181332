# What the Python peers share: the weights file bench/src/weights.ts writes ('MLPW', u32 layer count, u32 sizes, then
# per layer the weight (out x in, PyTorch layout) and bias as little-endian float32), so every peer runs the very same
# numbers; the network those weights make in torch; and the MNIST IDX files.
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
