// Interop: files written by savePth are loaded by real PyTorch (torch.load(weights_only=True)) into identical tensors,
// and read back by readPth bit-exactly. Skipped, with the reason printed, when /usr/bin/python3 has no torch.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test, afterAll } from 'vitest';
import { seededRandom } from '@mnist/core-wasm';
import { loadMlp, readPth, savePth, PthError, type PthTensor } from '../src/index.js';
import { MNIST_CLASSES, MNIST_PIXELS } from '../src/data/index.js';
import { DEFAULT_MODEL, PYTHON, bytesOf } from './helpers.js';

const probe = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], {
  encoding: 'utf8',
  timeout: 60_000,
});
const torchVersion = probe.status === 0 ? probe.stdout.trim() : null;
if (!torchVersion)
  console.warn(
    `interop with PyTorch skipped: \`${PYTHON} -c "import torch"\` failed (${(probe.stderr || probe.error?.message || '').trim().split('\n').pop()})`,
  );

const dir = mkdtempSync(join(tmpdir(), 'loader-interop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Loads the .pth with weights_only=True and compares each tensor's float32 bytes with the raw dump written beside it.
const CHECK = `
import json, sys, torch
path, raw, spec = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
sd = torch.load(path, weights_only=True)
data = open(raw, 'rb').read()
out = {"type": type(sd).__name__, "keys": list(sd.keys()), "mismatch": []}
off = 0
for name, shape in spec:
    t = sd[name]
    n = 1
    for s in shape: n *= s
    ref = torch.frombuffer(bytearray(data[off:off + 4 * n]), dtype=torch.float32).reshape(shape) if n else torch.zeros(shape)
    off += 4 * n
    same = t.dtype == torch.float32 and list(t.shape) == shape and torch.equal(t.view(torch.int32), ref.view(torch.int32))
    if not same: out["mismatch"].append(name)
print(json.dumps(out))
`;

function torchCheck(file: Uint8Array, tensors: { name: string; shape: number[]; data: Float32Array }[], tag: string) {
  const path = join(dir, `${tag}.pth`),
    raw = join(dir, `${tag}.bin`);
  writeFileSync(path, file);
  writeFileSync(
    raw,
    Buffer.concat(tensors.map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))),
  );
  const spec = JSON.stringify(tensors.map((t) => [t.name, t.shape]));
  return JSON.parse(execFileSync(PYTHON, ['-c', CHECK, path, raw, spec], { encoding: 'utf8', timeout: 120_000 })) as {
    type: string;
    keys: string[];
    mismatch: string[];
  };
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return (
    Buffer.compare(
      Buffer.from(a.buffer, a.byteOffset, a.byteLength),
      Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    ) === 0
  );
}

function oddTensors(): PthTensor[] {
  const rand = seededRandom(42);
  const special = [NaN, Infinity, -Infinity, -0, 1.4e-45, 3.4028234663852886e38, -1e-40];
  const make = (name: string, shape: number[]): PthTensor => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = i < special.length ? special[i] : (rand() - 0.5) * 10;
    return { name, dtype: 'float32', shape, data };
  };
  const list = [
    make('encoder.0.weight', [7, 3]),
    make('scalar', []),
    make('cube', [2, 3, 4]),
    make('empty', [0, 5]),
    make('vec', [70000]),
  ];
  for (let i = 0; i < 300; i++) list.push(make(`many.${i}`, [(i % 3) + 1])); // > 256 memo entries: LONG_BINPUT
  return list;
}

describe('savePth -> our reader', () => {
  test('the default model round-trips bit-exactly', async () => {
    const m = await loadMlp(bytesOf(DEFAULT_MODEL));
    const back = await loadMlp(savePth(m));
    expect(back.layers.map((l) => l.name)).toEqual(['fc1', 'fc2']);
    back.layers.forEach((l, i) => {
      expect(sameBits(l.weight, m.layers[i].weight)).toBe(true);
      expect(sameBits(l.bias, m.layers[i].bias)).toBe(true);
    });
  });
  test('odd tensors (NaN, -0, denormals, scalars, empty, 300 entries) round-trip bit-exactly, names kept', async () => {
    const tensors = oddTensors();
    const back = await readPth(savePth(tensors, { root: 'my-model.v1' }));
    expect(back.root).toBe('my-model.v1');
    expect(back.tensors.map((t) => t.name)).toEqual(tensors.map((t) => t.name));
    back.tensors.forEach((t, i) => {
      expect(t.shape).toEqual(tensors[i].shape);
      expect(sameBits(t.data, tensors[i].data), t.name).toBe(true);
    });
  });
  test('records are 64-byte aligned, as torch.save writes them', () => {
    const bytes = savePth(oddTensors().slice(0, 5));
    const view = new DataView(bytes.buffer);
    let p = 0,
      count = 0;
    while (view.getUint32(p, true) === 0x04034b50) {
      const size = view.getUint32(p + 18, true);
      const start = p + 30 + view.getUint16(p + 26, true) + view.getUint16(p + 28, true);
      expect(start % 64).toBe(0);
      p = start + size;
      count++;
    }
    expect(count).toBe(5 + 3); // data.pkl, byteorder, 5 storages, version
  });
  test('inconsistent layers are refused', () => {
    expect(() =>
      savePth({ layers: [{ weight: new Float32Array(6), bias: new Float32Array(2), in: 4, out: 2 }] }),
    ).toThrow(PthError);
    expect(() =>
      savePth({ layers: [{ weight: new Float32Array(8), bias: new Float32Array(3), in: 4, out: 2 }] }),
    ).toThrow(/bias has 3 values/);
  });
});

describe.skipIf(!torchVersion)(
  `savePth -> real PyTorch ${torchVersion ?? ''} torch.load(weights_only=True)`,
  { timeout: 120_000 },
  () => {
    test('the default model, re-saved, loads into identical tensors with keys fc1.weight, fc1.bias, ...', async () => {
      const m = await loadMlp(bytesOf(DEFAULT_MODEL));
      const file = savePth({ layers: m.layers.map(({ weight, bias, in: i, out }) => ({ weight, bias, in: i, out })) });
      const tensors = m.layers.flatMap((l, i) => [
        { name: `fc${i + 1}.weight`, shape: [l.out, l.in], data: l.weight },
        { name: `fc${i + 1}.bias`, shape: [l.out], data: l.bias },
      ]);
      const r = torchCheck(file, tensors, 'default');
      expect(r.type).toBe('OrderedDict');
      expect(r.keys).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
      expect(r.mismatch).toEqual([]);
    });
    test('odd tensors, a custom root and 300 entries load identically', () => {
      const tensors = oddTensors();
      const r = torchCheck(savePth(tensors, { root: 'my-model.v1' }), tensors, 'odd');
      expect(r.keys).toEqual(tensors.map((t) => t.name));
      expect(r.mismatch).toEqual([]);
    });
    test('a 3-layer model with custom layer names', () => {
      const rand = seededRandom(7);
      const sizes = [MNIST_PIXELS, 24, 16, MNIST_CLASSES];
      const layers = sizes.slice(1).map((out, i) => ({
        name: ['input', 'hidden', 'output'][i],
        in: sizes[i],
        out,
        weight: Float32Array.from({ length: out * sizes[i] }, () => rand() - 0.5),
        bias: Float32Array.from({ length: out }, () => rand() - 0.5),
      }));
      const tensors = layers.flatMap((l) => [
        { name: `${l.name}.weight`, shape: [l.out, l.in], data: l.weight },
        { name: `${l.name}.bias`, shape: [l.out], data: l.bias },
      ]);
      const r = torchCheck(savePth({ layers }), tensors, 'three');
      expect(r.keys).toEqual([
        'input.weight',
        'input.bias',
        'hidden.weight',
        'hidden.bias',
        'output.weight',
        'output.bias',
      ]);
      expect(r.mismatch).toEqual([]);
    });
  },
);
