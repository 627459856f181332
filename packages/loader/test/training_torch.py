#!/usr/bin/python3
# Real PyTorch side of test/training.test.ts: trains a 784-16-10 ReLU MLP from given initial weights on given
# batches with a given torch.optim optimizer and lr_scheduler, and either runs straight through, saves a checkpoint
# after `split` steps (PyTorch's layout), or resumes from a checkpoint the engine wrote and continues.
# Usage: training_torch.py SPEC.json   (paths and settings in the JSON; writes weights as raw float32)
import json, sys
import numpy as np
import torch

spec = json.load(open(sys.argv[1]))
sizes, steps, batch, split = spec['sizes'], spec['steps'], spec['batch'], spec['split']
init = np.fromfile(spec['init'], dtype='<f4')
x_all = torch.from_numpy(np.fromfile(spec['x'], dtype='<f4').reshape(-1, sizes[0]))
y_all = torch.from_numpy(np.fromfile(spec['y'], dtype=np.uint8).astype(np.int64))

def make_model():
    layers, off = [], 0
    for i in range(len(sizes) - 1):
        lin = torch.nn.Linear(sizes[i], sizes[i + 1])
        n = sizes[i] * sizes[i + 1]
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(init[off:off + n].reshape(sizes[i + 1], sizes[i]))); off += n
            lin.bias.copy_(torch.from_numpy(init[off:off + sizes[i + 1]])); off += sizes[i + 1]
        layers.append(lin)
        if i + 2 < len(sizes):
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)

def make_opt(model):
    o = spec['optimizer']
    cls = {'sgd': torch.optim.SGD, 'adam': torch.optim.Adam, 'adamw': torch.optim.AdamW}[o.pop('name')]
    if 'betas' in o: o['betas'] = tuple(o['betas'])
    opt = cls(model.parameters(), **o)
    s = spec['schedule']
    L = torch.optim.lr_scheduler
    if s['kind'] == 'cosine_warmup':
        sched = L.SequentialLR(opt, [L.LinearLR(opt, start_factor=s['start_factor'], total_iters=s['warmup']),
                                     L.CosineAnnealingLR(opt, T_max=s['total'], eta_min=s['min_lr'])], milestones=[s['warmup']])
    elif s['kind'] == 'onecycle':
        sched = L.OneCycleLR(opt, max_lr=s['max_lr'], total_steps=s['total'])
    elif s['kind'] == 'step':
        sched = L.StepLR(opt, step_size=s['step_size'], gamma=s['gamma'])
    return opt, sched

def run(model, opt, sched, start, end):
    lrs = []
    for k in range(start, end):
        xb, yb = x_all[k * batch:(k + 1) * batch], y_all[k * batch:(k + 1) * batch]
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        lrs.append(opt.param_groups[0]['lr'])
        opt.step()
        sched.step()
    return lrs

def dump(model, path):
    parts = []
    for m in model:
        if isinstance(m, torch.nn.Linear):
            parts += [m.weight.detach().numpy().ravel(), m.bias.detach().numpy().ravel()]
    np.concatenate(parts).astype('<f4').tofile(path)

import warnings
warnings.simplefilter('ignore')
model = make_model()
opt, sched = make_opt(model)
out = {}
if spec['mode'] == 'straight':
    out['lrs'] = run(model, opt, sched, 0, steps)
elif spec['mode'] == 'save':
    out['lrs'] = run(model, opt, sched, 0, split)
    sd = sched.state_dict()
    sd.pop('anneal_func', None)  # a bound method (OneCycleLR): torch.save would pickle the whole scheduler
    torch.save({'epoch': 1, 'model_state_dict': model.state_dict(), 'optimizer_state_dict': opt.state_dict(),
                'scheduler_state_dict': sd}, spec['checkpoint'])
elif spec['mode'] == 'resume':
    ck = torch.load(spec['checkpoint'])
    model.load_state_dict(ck['model_state_dict'])
    opt.load_state_dict(ck['optimizer_state_dict'])
    sched.load_state_dict(ck['scheduler_state_dict'])
    out['lrs'] = run(model, opt, sched, split, steps)
    out['keys'] = sorted(ck.keys())
dump(model, spec['out'])
print(json.dumps(out))
