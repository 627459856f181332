# Reads the weights file bench/src/weights.ts writes ('MLPW', u32 layer count, u32 sizes, then per layer the weight
# (out x in, PyTorch layout) and bias as little-endian float32), so every Python peer runs the very same numbers.
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
