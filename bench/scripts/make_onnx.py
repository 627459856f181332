#!/usr/bin/python3
# Writes the benchmark's network as an ONNX file with real PyTorch (torch.onnx.export), for the onnxruntime-web peer:
# Linear layers with ReLU between them, the weights from WEIGHTS.bin (bench/src/weights.ts), a dynamic batch axis.
# Usage: /usr/bin/python3 make_onnx.py WEIGHTS.bin OUT.onnx   -> prints one JSON line {"torch": version}
import json, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch
from weights_io import read_weights, torch_mlp

sizes, params = read_weights(sys.argv[1])
model = torch_mlp(sizes, params).eval()
torch.onnx.export(model, torch.zeros(1, sizes[0]), sys.argv[2], input_names=['x'], output_names=['logits'],
                  dynamic_axes={'x': {0: 'batch'}, 'logits': {0: 'batch'}}, opset_version=13)
print(json.dumps({'torch': torch.__version__}))
