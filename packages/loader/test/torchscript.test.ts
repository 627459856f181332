// TorchScript archives: the architectures.json entries of kind torchscript (weights, activations read from the code,
// logits of the 16 reference images, the refusal of a forward that is not a chain).
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadMlpSync, readPthSync, PthError } from '../src/index.js';
import { FIXTURES, bytesOf, mnistTestImages } from './helpers.js';
import { entriesOf, forwardWith, maxRelDiff, referenceLogits } from './architectures.js';

const images = mnistTestImages(16);
const path = (file: string) => join(FIXTURES, 'architectures', file);

describe('TorchScript fixtures (architectures.json)', () => {
  const entries = entriesOf('torchscript');
  it('the manifest lists the three TorchScript files', () => expect(entries.length).toBe(3));
  for (const e of entries) {
    if (e.expect.source === 'refuse') {
      it(`${e.file}: refused with ${e.expect.code}, saying what the file is and how to export a state_dict`, () => {
        let err: unknown;
        try {
          readPthSync(bytesOf(path(e.file)));
        } catch (x) {
          err = x;
        }
        expect(err).toBeInstanceOf(PthError);
        expect((err as PthError).code).toBe(e.expect.code);
        expect((err as PthError).message).toMatch(/TorchScript archive/);
        expect((err as PthError).hint).toContain('torch.save(torch.jit.load(path).state_dict(), "model.pth")');
      });
      continue;
    }
    it(`${e.file}: layers, activations from the code and the 16 reference logits within 1e-4`, () => {
      const model = loadMlpSync(bytesOf(path(e.file)));
      expect(model.file.format).toBe('torchscript');
      expect(model.file.architecture?.activations).toEqual(e.expect.activations);
      expect(model.layers.map((l) => ({ name: l.name, in: l.in, out: l.out, bias: true }))).toEqual(e.expect.layers);
      const activations = model.file.architecture!.activations as string[];
      const logits = forwardWith(model.layers, activations, images, 16);
      expect(maxRelDiff(logits, referenceLogits(e))).toBeLessThan(1e-4);
      // read as ReLU (the state_dict default) the same weights give other logits: the activation matters here
      expect(maxRelDiff(forwardWith(model.layers, ['relu'], images, 16), referenceLogits(e))).toBeGreaterThan(1e-3);
    });
  }
});
