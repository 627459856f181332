#!/usr/bin/python3
# PyTorch peer of `pnpm bench`'s training table: 784-512-10 (ReLU) trained with torch.optim from the SAME initial
# weights on the SAME batches as the library's train() (each epoch's order from the bench, the last partial batch
# kept), so losses and accuracy compare one to one. Each optimizer in SPEC trains EPOCHS epochs from the start.
# Usage: /usr/bin/python3 pytorch_train.py WEIGHTS.bin ORDERS.bin SPEC_JSON DATA_DIR  (files from
#   bench/src/train-peers.ts; SPEC: {"threads": T, "batch": B, "epochs": E, "runs": [{"name": ...,
#   "optimizer": "sgd" | "adam", "kwargs": {...torch.optim arguments}}]}) -> one JSON line.
#   The caller sets OMP_NUM_THREADS and OPENBLAS_NUM_THREADS to T as well.
import json, os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch
from weights_io import mnist_arrays, read_train_input, torch_mlp

spec = json.loads(sys.argv[3])
sizes, params, orders = read_train_input(sys.argv[1], sys.argv[2], spec['epochs'])
batch = spec['batch']
torch.set_num_threads(spec['threads'])
x_train, y_train, x_test, y_test = (torch.from_numpy(a) for a in mnist_arrays(sys.argv[4], sizes[0]))
n_train = orders.shape[1]
optimizers = {'sgd': torch.optim.SGD, 'adam': torch.optim.Adam, 'adamw': torch.optim.AdamW}

result = {'torch': torch.__version__, 'threads': torch.get_num_threads(), 'runs': []}
for run in spec['runs']:
    model = torch_mlp(sizes, params)
    opt = optimizers[run['optimizer']](model.parameters(), **run['kwargs'])
    out = {'name': run['name'], 'epoch_seconds': [], 'accuracy': [], 'first_losses': []}
    for e in range(len(orders)):
        order = torch.from_numpy(orders[e])
        t0 = time.perf_counter()
        for s in range(0, n_train, batch):
            idx = order[s:s + batch]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x_train[idx]), y_train[idx])
            loss.backward()
            opt.step()
            if len(out['first_losses']) < 20:
                out['first_losses'].append(loss.item())
        out['epoch_seconds'].append(time.perf_counter() - t0)
        with torch.no_grad():
            out['accuracy'].append((model(x_test).argmax(1) == y_test).float().mean().item())
    result['runs'].append(out)
print(json.dumps(result))
