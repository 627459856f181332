// safetensors: the architectures.json entries of kind safetensors (weights, logits, refusals) and the writer's bytes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMlpSync, readPthSync, readSafetensors, saveSafetensors, PthError } from '../src/index.js';
import { PYTHON, bytesOf, mnistTestImages } from './helpers.js';
import { entriesOf, fixturePath as path, forwardWith, maxRelDiff, referenceLogits } from './architectures.js';

const images = mnistTestImages(16);

describe('safetensors fixtures (architectures.json)', () => {
  const entries = entriesOf('safetensors');
  it('the manifest lists the seven safetensors files', () => expect(entries.length).toBe(7));
  for (const e of entries) {
    if (e.expect.source === 'refuse') {
      it(`${e.file}: refused with ${e.expect.code}`, () => {
        let err: unknown;
        try {
          readPthSync(bytesOf(path(e.file)));
        } catch (x) {
          err = x;
        }
        expect(err).toBeInstanceOf(PthError);
        expect((err as PthError).code).toBe(e.expect.code);
      });
      continue;
    }
    it(`${e.file}: layers, dtypes and the 16 reference logits within 1e-4`, () => {
      const model = loadMlpSync(bytesOf(path(e.file)));
      expect(model.file.format).toBe('safetensors');
      expect(model.layers.map((l) => ({ name: l.name, in: l.in, out: l.out, bias: true }))).toEqual(e.expect.layers);
      if (e.expect.dtypes) {
        const want: Record<string, string> = { F16: 'float16', BF16: 'bfloat16', F64: 'float64', F32: 'float32' };
        for (const t of model.file.tensors) expect(t.dtype).toBe(want[e.expect.dtypes[t.name]]);
      }
      const logits = forwardWith(model.layers, e.expect.activations!, images, 16);
      expect(maxRelDiff(logits, referenceLogits(e))).toBeLessThan(1e-4);
    });
  }
});

describe('safetensors reader bounds', () => {
  const tiny = bytesOf(path('tiny_784_2_10.safetensors'));
  const withHeader = (header: string, data = new Uint8Array(0)) => {
    const h = new TextEncoder().encode(header);
    const out = new Uint8Array(8 + h.length + data.length);
    new DataView(out.buffer).setUint32(0, h.length, true);
    out.set(h, 8);
    out.set(data, 8 + h.length);
    return out;
  };
  const codeOf = (bytes: Uint8Array) => {
    try {
      readPthSync(bytes);
    } catch (e) {
      return (e as PthError).code;
    }
    return 'ok';
  };
  it('a header length over 16 MiB is PTH_LIMIT, under it but past the end PTH_TRUNCATED', () => {
    const big = tiny.slice();
    new DataView(big.buffer).setUint32(0, (16 << 20) + 1, true);
    expect(codeOf(big)).toBe('PTH_LIMIT');
    new DataView(big.buffer).setUint32(0, tiny.length - 7, true);
    expect(codeOf(big)).toBe('PTH_TRUNCATED');
  });
  it('bad JSON is PTH_CORRUPT, an integer dtype PTH_UNSUPPORTED_DTYPE', () => {
    expect(codeOf(withHeader('{"a": '))).toBe('PTH_CORRUPT');
    expect(codeOf(withHeader('{"x.weight":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}', new Uint8Array(8)))).toBe(
      'PTH_UNSUPPORTED_DTYPE',
    );
  });
  it('names are escaped in messages; __metadata__ is kept, inert', () => {
    const name = 'evil\u001b[31m\nname';
    const err = (() => {
      try {
        readPthSync(
          withHeader(JSON.stringify({ [name]: { dtype: 'U8', shape: [1], data_offsets: [0, 1] } }), new Uint8Array(1)),
        );
      } catch (e) {
        return e as PthError;
      }
    })();
    expect(err?.code).toBe('PTH_UNSUPPORTED_DTYPE');
    expect(err?.message).not.toMatch(/[\u0000-\u001f]/);
    const file = readSafetensors(
      withHeader(
        JSON.stringify({
          __metadata__: { __proto__: 'x', format: 'pt' },
          'a.weight': { dtype: 'F32', shape: [1, 1], data_offsets: [0, 4] },
        }),
        new Uint8Array(4),
      ),
    );
    expect(file.metadata.format).toBe('pt');
    expect(file.tensors.map((t) => t.name)).toEqual(['a.weight']);
  });
});

describe('saveSafetensors', () => {
  const model = loadMlpSync(bytesOf(path('tanh.safetensors')));
  const bytes = saveSafetensors(model, { metadata: { format: 'pt' } });

  it('writes the format byte by byte: length, space-padded JSON to 8 bytes, offsets contiguous from 0 in layer order', () => {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = view.getUint32(0, true);
    expect(view.getUint32(4, true)).toBe(0);
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text.trimEnd().length).toBeGreaterThan(n - 8);
    expect(text.slice(text.trimEnd().length)).toMatch(/^ *$/);
    const header = JSON.parse(text);
    expect(header.__metadata__).toEqual({ format: 'pt' });
    const names = Object.keys(header).filter((k) => k !== '__metadata__');
    expect(names).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']); // insertion order: layer by layer
    let offset = 0;
    for (const name of names) {
      const { dtype, shape, data_offsets } = header[name];
      expect(dtype).toBe('F32');
      expect(data_offsets).toEqual([offset, offset + 4 * shape.reduce((a: number, b: number) => a * b, 1)]);
      offset = data_offsets[1];
    }
    expect(bytes.length).toBe(8 + n + offset);
    // the first weight, read straight from the data region
    expect(view.getFloat32(8 + n, true)).toBe(model.layers[0].weight[0]);
    expect(view.getFloat32(8 + n + 4 * (32 * 784 + 32), true)).toBe(model.layers[1].weight[0]);
  });

  it('round-trips through the reader', () => {
    const back = loadMlpSync(bytes);
    expect(back.layers.length).toBe(2);
    back.layers.forEach((l, i) => {
      expect(l.weight).toEqual(model.layers[i].weight);
      expect(l.bias).toEqual(model.layers[i].bias);
    });
  });

  const torch = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  it.skipIf(torch.status !== 0)(
    torch.status === 0
      ? 'torch.frombuffer reads the data region'
      : `torch.frombuffer reads the data region (skipped: ${PYTHON} has no torch)`,
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'safetensors-'));
      const file = join(dir, 'model.safetensors');
      writeFileSync(file, bytes);
      const script = [
        'import json, struct, sys, torch',
        'b = open(sys.argv[1], "rb").read()',
        'n = struct.unpack("<Q", b[:8])[0]',
        'h = json.loads(b[8:8 + n])',
        'out = {}',
        'for k, v in h.items():',
        '    if k == "__metadata__": continue',
        '    s, e = v["data_offsets"]',
        '    t = torch.frombuffer(bytearray(b[8 + n + s:8 + n + e]), dtype=torch.float32).reshape(v["shape"])',
        '    out[k] = [list(t.shape), float(t.double().sum()), float(t.reshape(-1)[0])]',
        'print(json.dumps(out))',
      ].join('\n');
      const r = spawnSync(PYTHON, ['-c', script, file], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      const got = JSON.parse(r.stdout) as Record<string, [number[], number, number]>;
      for (const [i, l] of model.layers.entries()) {
        for (const [kind, data, shape] of [
          ['weight', l.weight, [l.out, l.in]],
          ['bias', l.bias, [l.out]],
        ] as const) {
          const [pyShape, sum, first] = got[`${l.name}.${kind}`];
          expect(pyShape).toEqual(shape);
          let s = 0;
          for (const v of data) s += v;
          expect(Math.abs(sum - s)).toBeLessThan(1e-6 * Math.max(1, data.length));
          expect(first).toBe(data[0]);
        }
        expect(i).toBeLessThan(2);
      }
    },
  );
});
