// The packages' errors ({ code, message, hint? }) are recognised by their classes, not by the shape of `code`:
// Node's own errors and errors of other libraries are not package errors, whatever their code.
import { describe, expect, it } from 'vitest';
import { CoreError } from '@mnist/core-wasm';
import { PthError } from '@mnist/loader';
import { DataError } from '@mnist/loader/data';
import { InputError, fileError, isPackageError, packageErrorText } from '../src/errors.js';
import { loadViz } from '../src/viz.js';

describe('package errors', () => {
  it('recognises PthError, DataError, CoreError and (once @mnist/viz is loaded) VizError, nothing else', async () => {
    expect(isPackageError(new PthError('PTH_TRUNCATED', 'the file ends early', 'copy it again'))).toBe(true);
    expect(isPackageError(new DataError('IDX_EMPTY', 'labels.idx: is empty', 'pass the labels file'))).toBe(true);
    expect(isPackageError(new CoreError('CORE_BAD_SHAPE', 'x has 3 values'))).toBe(true);
    const { VizError } = await loadViz();
    expect(isPackageError(new VizError('VIZ_INVALID_INPUT', 'invalid labels'))).toBe(true);
    const enoent = Object.assign(new Error('no such file'), { code: 'ENOENT' });
    const lookalike = Object.assign(new Error('looks coded'), { code: 'PTH_TRUNCATED', hint: 'but is not ours' });
    for (const other of [enoent, lookalike, new InputError('refused'), 'PTH_TRUNCATED', undefined])
      expect(isPackageError(other)).toBe(false);
  });

  it('shows the message (which holds the hint) and the code, and fileError names the file once', () => {
    const err = new PthError('PTH_TRUNCATED', 'the file ends early', 'copy it again');
    expect(packageErrorText(err)).toBe('the file ends early: copy it again [PTH_TRUNCATED]');
    const wrapped = fileError('m.pth', err) as InputError;
    expect(wrapped).toBeInstanceOf(InputError);
    expect(wrapped).toMatchObject({
      message: 'm.pth: the file ends early: copy it again [PTH_TRUNCATED]',
      code: 'PTH_TRUNCATED',
      exitCode: 1,
      cause: err,
    });
    const idx = new DataError('IDX_EMPTY', 'labels.idx: is empty', 'pass the labels file');
    expect((fileError('labels.idx', idx) as InputError).message).toBe(
      'labels.idx: is empty: pass the labels file [IDX_EMPTY]',
    );
    const other = new Error('not ours');
    expect(fileError('m.pth', other)).toBe(other);
  });
});
