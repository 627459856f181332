// TorchScript archives: the architectures.json entries of kind torchscript (weights; activations, their constants and
// Dropouts read from the code of scripted and traced modules; logits of the 16 reference images; the refusals of a
// forward that is not a chain of what the engine runs).
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadMlpSync, readPthSync, PthError, type MlpActivation } from '../src/index.js';
import { readEntry, readZip } from '../src/zip.js';
import { buildZip } from './craft.js';
import { FIXTURES, bytesOf, mnistTestImages } from './helpers.js';
import { activationSpecs, entriesOf, forwardWith, maxRelDiff, referenceLogits } from './architectures.js';

const images = mnistTestImages(16);
const path = (file: string) => join(FIXTURES, 'architectures', file);

/** The same layers read with other activations: ReLU (a state_dict's default), or the identity where ReLU is right. */
function misread(activations: MlpActivation[]): MlpActivation[] {
  return activations.map((a) => (a === 'relu' ? 'identity' : 'relu'));
}

/** ts_script_relu.pt with the scripted ReLU's forward body (`_0 = __torch__...relu(input, False, )`) replaced. */
function withReluBody(lines: string[]): Uint8Array {
  const zip = readZip(bytesOf(path('ts_script_relu.pt')));
  const records = [...zip.entries.values()].map((e) => ({ name: e.name, data: readEntry(zip, e) }));
  const code = records.find((r) => r.name.endsWith('code/__torch__/torch/nn/modules/activation.py'))!;
  const text = new TextDecoder().decode(code.data);
  const body = '    _0 = __torch__.torch.nn.functional.relu(input, False, )\n    return _0\n';
  expect(text).toContain(body);
  code.data = new TextEncoder().encode(text.replace(body, lines.map((l) => `    ${l}\n`).join('')));
  return buildZip(records);
}

function refusal(bytes: Uint8Array): PthError {
  try {
    readPthSync(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(PthError);
    return e as PthError;
  }
  throw new Error('read without an error');
}

describe('TorchScript fixtures (architectures.json)', () => {
  const entries = entriesOf('torchscript');
  it('the manifest lists scripted and traced chains and the refusals', () => {
    expect(entries.map((e) => e.file).sort()).toEqual([
      'ts_script_leaky_elu_dropout.pt',
      'ts_script_net_functional.pt',
      'ts_script_relu.pt',
      'ts_script_residual.pt',
      'ts_script_seq.pt',
      'ts_script_softplus.pt',
      'ts_trace_dropout_train.pt',
      'ts_trace_leaky_elu_dropout.pt',
      'ts_trace_net_functional.pt',
      'ts_trace_seq.pt',
    ]);
  });
  for (const e of entries) {
    if (e.expect.source === 'refuse') {
      it(`${e.file}: refused with ${e.expect.code}, saying what the file is, what it found and how to export a state_dict`, () => {
        let err: unknown;
        try {
          readPthSync(bytesOf(path(e.file)));
        } catch (x) {
          err = x;
        }
        expect(err).toBeInstanceOf(PthError);
        expect((err as PthError).code).toBe(e.expect.code);
        expect((err as PthError).message).toMatch(/TorchScript archive/);
        if (e.expect.found) expect((err as PthError).message).toContain(e.expect.found);
        expect((err as PthError).message.length).toBeLessThan(400);
        expect((err as PthError).hint).toContain('torch.save(torch.jit.load(path).state_dict(), "model.pth")');
      });
      continue;
    }
    it(`${e.file}: layers, activations and dropout from the code, the 16 reference logits within 1e-4`, () => {
      const model = loadMlpSync(bytesOf(path(e.file)));
      expect(model.file.format).toBe('torchscript');
      const activations = activationSpecs(e);
      expect(model.architectureSource).toBe('file');
      expect(model.activations).toEqual(activations);
      expect(model.dropout).toEqual(e.expect.dropout?.some((p) => p > 0) ? e.expect.dropout : undefined);
      expect(model.layers.map((l) => ({ name: l.name, in: l.in, out: l.out, bias: true }))).toEqual(e.expect.layers);
      expect(model.warnings.length).toBe(e.expect.warnings?.length ?? 0);
      const logits = forwardWith(model.layers, model.activations!, images, 16);
      const diff = maxRelDiff(logits, referenceLogits(e));
      expect(diff, `maxdiff ${diff}`).toBeLessThan(1e-4);
      // read with other activations the same weights give other logits: the activations matter here
      expect(
        maxRelDiff(forwardWith(model.layers, misread(activations), images, 16), referenceLogits(e)),
      ).toBeGreaterThan(1e-3);
    });
  }
  it('the constants matter: LeakyReLU 0.01 and ELU alpha 1 (the defaults) miss the logits', () => {
    for (const file of ['ts_script_leaky_elu_dropout.pt', 'ts_trace_net_functional.pt']) {
      const e = entriesOf('torchscript').find((x) => x.file === file)!;
      const model = loadMlpSync(bytesOf(path(file)));
      const defaults: MlpActivation[] = [
        { name: 'leaky_relu', slope: 0.01 },
        { name: 'elu', alpha: 1 },
      ];
      expect(maxRelDiff(forwardWith(model.layers, defaults, images, 16), referenceLogits(e))).toBeGreaterThan(1e-3);
    }
  });
  it('reads the forms torch writes, edited into a real archive: in-place, aliased, literal constants', () => {
    const read = (lines: string[]) => loadMlpSync(withReluBody(lines));
    expect(read(['_0 = __torch__.torch.nn.functional.relu(input, False, )', 'return _0']).activations).toEqual([
      'relu',
    ]);
    expect(read(['return torch.relu_(input)']).activations).toEqual(['relu']);
    expect(read(['_0 = __torch__.torch.nn.functional.elu', 'return _0(input, 1., True, )']).activations).toEqual([
      { name: 'elu', alpha: 1 },
    ]);
    expect(read(['return torch.leaky_relu(input, 1.0000000000000001e-05)']).activations).toEqual([
      { name: 'leaky_relu', slope: 1e-5 },
    ]);
    expect(read(['return torch.gelu(input, approximate="tanh")']).activations).toEqual(['gelu_tanh']);
    const m = read(['training = self.training', 'x = torch.dropout(input, 0.25, training)', 'return torch.tanh(x)']);
    expect([m.activations, m.dropout, m.warnings]).toEqual([['tanh'], [0.25], []]);
  });
  it('refuses, naming it, what is not a constant, not read, or nested past the bound', () => {
    const cases: [string[], RegExp][] = [
      [['return torch.leaky_relu(input, slope)'], /calls torch\.leaky_relu with slope: not read/],
      [['return torch.elu(input, 1., 2., 1.)'], /calls torch\.elu with 1\., 2\., 1\.: not read/],
      [['return torch.dropout(input, 1.5, False)'], /calls torch\.dropout with 1\.5, False: not read/],
      [['return torch.hardtanh(input, -1., 1.)'], /calls torch\.hardtanh: not Linear, Dropout or an activation/],
      [['return __torch__.torch.nn.functional.relu6(input, False, )'], /calls torch\.nn\.functional\.relu6:/],
      [['return torch.add(input, input)'], /calls torch\.add:/],
      [[`return ${'torch.relu('.repeat(40)}input${')'.repeat(40)}`], /nests calls more than 32 deep/],
    ];
    for (const [lines, message] of cases) {
      const err = refusal(withReluBody(lines));
      expect(err.code, err.message).toBe('PTH_TORCHSCRIPT');
      expect(err.message).toMatch(message);
      expect(err.message).toMatch(
        /^this is a TorchScript archive \(torch\.jit\.save\) whose torch\.nn\.modules\.activation\.ReLU\.forward /,
      );
    }
  });
  it('a Dropout traced in training mode is read as the identity, with a warning that says so', () => {
    const model = loadMlpSync(bytesOf(path('ts_trace_dropout_train.pt')));
    expect(model.warnings.join('\n')).toMatch(/traced in training mode \(torch\.dropout\(x, 0\.5, True\)\)/);
  });
});
