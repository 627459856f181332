"""Real PyTorch's side of test/checkpoint.test.ts (run with /usr/bin/python3, which has torch).

make DIR    trains a 784-16-10 MLP for a few steps with each optimizer + scheduler of CONFIGS and saves
            DIR/<name>.pth as PyTorch users do: torch.save({'epoch', 'model_state_dict', 'optimizer_state_dict',
            'scheduler_state_dict', ...extra}); DIR/<name>.json is what torch.load gives back from those bytes, every
            value tagged with its Python type (tensors as float32 bytes). Also DIR/onecycle_whole.pth: OneCycleLR's
            state_dict saved as is (torch 1.13 keeps a bound method in it).
resume DIR  for each config, loads DIR/<name>.pth (PyTorch's) and DIR/<name>.ours.pth (written by saveCheckpoint) into
            a fresh model, optimizer and scheduler with load_state_dict, continues STEPS_AFTER steps on both, and
            prints JSON: whether torch.load gives the same values with the same types, whether the weights, the
            optimizer state and the scheduler state after the steps are bit-identical, whether both equal an
            uninterrupted run, and what weights_only=True says of each file.
"""
import base64
import json
import struct
import sys
from collections import OrderedDict

import torch
from torch import nn
from torch.optim import SGD, Adam, AdamW
from torch.optim import lr_scheduler as L

STEPS_BEFORE = 6
STEPS_AFTER = 5
BATCH = 32


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def sgd_groups(m):
    # two groups, numbered in group order: 0 fc1.weight, 1 fc2.weight, 2 fc1.bias, 3 fc2.bias
    return SGD(
        [
            {"params": [m.fc1.weight, m.fc2.weight]},
            {"params": [m.fc1.bias, m.fc2.bias], "weight_decay": 0, "lr": 0.05},
        ],
        lr=0.1,
        momentum=0.9,
        nesterov=True,
        weight_decay=1e-4,
    )


CONFIGS = {
    "sgd_nesterov_steplr": (sgd_groups, lambda o: L.StepLR(o, step_size=2, gamma=0.5)),
    "sgd_plain_linearlr": (
        lambda m: SGD(m.parameters(), lr=0.05),
        lambda o: L.LinearLR(o, start_factor=0.25, total_iters=4),
    ),
    "adam_cosine": (
        lambda m: Adam(m.parameters(), lr=1e-3),
        lambda o: L.CosineAnnealingLR(o, T_max=10, eta_min=1e-5),
    ),
    "adamw_amsgrad_onecycle": (
        lambda m: AdamW(m.parameters(), lr=1e-3, amsgrad=True, weight_decay=0.05),
        lambda o: L.OneCycleLR(o, max_lr=0.01, total_steps=30),
    ),
    "adam_sequential": (
        lambda m: Adam(m.parameters(), lr=2e-3, betas=(0.8, 0.99)),
        lambda o: L.SequentialLR(
            o, [L.LinearLR(o, start_factor=0.1, total_iters=3), L.CosineAnnealingLR(o, T_max=20)], milestones=[3]
        ),
    ),
}


def batch(step):
    g = torch.Generator().manual_seed(1000 + step)
    return torch.rand(BATCH, 784, generator=g), torch.randint(0, 10, (BATCH,), generator=g)


def train(model, opt, sched, first, count):
    loss = None
    for step in range(first, first + count):
        x, y = batch(step)
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        sched.step()
    return loss


def build(name, seed):
    torch.manual_seed(seed)
    model = Net()
    make_opt, make_sched = CONFIGS[name]
    opt = make_opt(model)
    return model, opt, make_sched(opt)


def scheduler_state(sched):
    # torch 1.13's OneCycleLR keeps a bound method (anneal_func) in its state_dict: pickling it pickles the whole
    # scheduler and optimizer. load_state_dict keeps the one __init__ set when it is left out.
    return {k: v for k, v in sched.state_dict().items() if k != "anneal_func"}


def tag(v, exact=False):
    """v with its Python type spelled out; tensors as float32 bytes (exact: their own bytes, for Python's checks)."""
    if v is None:
        return ["None"]
    if isinstance(v, bool):
        return ["bool", v]
    if isinstance(v, int):
        return ["int", str(v)]
    if isinstance(v, float):
        return ["float", struct.pack(">d", v).hex()]
    if isinstance(v, str):
        return ["str", v]
    if isinstance(v, bytes):
        return ["bytes", v.hex()]
    if isinstance(v, tuple):
        return ["tuple", [tag(x, exact) for x in v]]
    if isinstance(v, list):
        return ["list", [tag(x, exact) for x in v]]
    if isinstance(v, dict):
        kind = "OrderedDict" if isinstance(v, OrderedDict) else "dict"
        if type(v) not in (dict, OrderedDict):
            raise TypeError(type(v))
        return [kind, [[tag(k, exact), tag(x, exact)] for k, x in v.items()]]
    if torch.is_tensor(v):
        t = v.detach().contiguous()
        raw = t.numpy().tobytes() if exact else t.to(torch.float32).numpy().tobytes()
        return ["tensor", str(t.dtype).replace("torch.", ""), list(t.shape), base64.b64encode(raw).decode()]
    raise TypeError(type(v))


def extras(loss):
    return {
        "loss": loss.item(),
        "best_acc": torch.tensor(0.875),
        "history": [1, 2.5, None, True, "x", (1, 2.0), ()],
        "meta": {
            "seed": 7,
            "big": 2**70,
            "neg": -3,
            "very_negative": -(2**40),
            "name": "mnist\n\x1b[31m",
            3: "an int key",
            "nested": OrderedDict([("a", []), ("b", {})]),
            "raw": b"\x00\xffab",
        },
        "specials": [float("nan"), float("inf"), float("-inf"), -0.0, 5e-324, 1.0, 0.1],
        "counts": torch.tensor([1, 2, 3]),
        # values come as float32 (a float64 0.1 would come back as float32's 0.1): these are exact in both
        "f64": torch.tensor([0.5, -2.5], dtype=torch.float64),
    }


def make(out):
    for name in CONFIGS:
        model, opt, sched = build(name, 20240601)
        loss = train(model, opt, sched, 0, STEPS_BEFORE)
        ck = {
            "epoch": 2,
            "model_state_dict": model.state_dict(),
            "optimizer_state_dict": opt.state_dict(),
            "scheduler_state_dict": scheduler_state(sched),
            **extras(loss),
        }
        path = f"{out}/{name}.pth"
        torch.save(ck, path)
        with open(f"{out}/{name}.json", "w") as f:
            json.dump(tag(torch.load(path)), f)
    model, opt, sched = build("adamw_amsgrad_onecycle", 1)
    train(model, opt, sched, 0, 2)
    torch.save({"model_state_dict": model.state_dict(), "scheduler_state_dict": sched.state_dict()}, f"{out}/onecycle_whole.pth")


def weights_only(path):
    try:
        torch.load(path, weights_only=True)
        return "ok"
    except Exception as e:  # torch 1.13's weights_only unpickler has no opcode for floats
        return str(e).split("WeightsUnpickler error: ")[-1][:120]


def resume(name, path):
    model, opt, sched = build(name, 999)  # other initial weights: everything must come from the file
    ck = torch.load(path)
    model.load_state_dict(ck["model_state_dict"])
    opt.load_state_dict(ck["optimizer_state_dict"])
    sched.load_state_dict(ck["scheduler_state_dict"])
    train(model, opt, sched, STEPS_BEFORE, STEPS_AFTER)
    return model, opt, sched


def same(a, b):
    return json.dumps(tag(a, True)) == json.dumps(tag(b, True))


def check(out):
    report = {"torch": torch.__version__}
    for name in CONFIGS:
        theirs, ours = f"{out}/{name}.pth", f"{out}/{name}.ours.pth"
        m1, o1, s1 = resume(name, theirs)
        m2, o2, s2 = resume(name, ours)
        m3, o3, s3 = build(name, 20240601)
        train(m3, o3, s3, 0, STEPS_BEFORE + STEPS_AFTER)
        diff = max((a - b).abs().max().item() for a, b in zip(m1.parameters(), m2.parameters()))
        report[name] = {
            "same_load": same(torch.load(theirs), torch.load(ours)),
            "weights_identical": same(m1.state_dict(), m2.state_dict()),
            "max_abs_diff": diff,
            "optimizer_identical": same(o1.state_dict(), o2.state_dict()),
            "scheduler_identical": same(scheduler_state(s1), scheduler_state(s2)),
            "lr_after": [g["lr"] for g in o2.param_groups],
            "uninterrupted_identical": same(m3.state_dict(), m1.state_dict()),
            "weights_only_theirs": weights_only(theirs),
            "weights_only_ours": weights_only(ours),
        }
    report["model_only_weights_only"] = weights_only(f"{out}/model_only.ours.pth")
    print(json.dumps(report))


if __name__ == "__main__":
    {"make": make, "resume": check}[sys.argv[1]](sys.argv[2])
