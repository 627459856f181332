// Hostile and refused files: each gives its PthError code with a one-line message, quickly and without side effects.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadMlp, PthError } from '../src/index.js';
import { FIXTURES, hostile, bytesOf } from './helpers.js';

describe('hostile fixtures', () => {
  test('the manifest covers every error code a file can cause', () => {
    const codes = new Set(hostile.fixtures.map((f) => f.code));
    for (const c of [
      'PTH_NOT_PTH',
      'PTH_TRUNCATED',
      'PTH_CORRUPT',
      'PTH_BAD_PICKLE',
      'PTH_UNSAFE_GLOBAL',
      'PTH_MISSING_RECORD',
      'PTH_STORAGE_SIZE',
      'PTH_BAD_VIEW',
      'PTH_UNSUPPORTED_DTYPE',
      'PTH_LIMIT',
      'PTH_NO_STATE_DICT',
      'PTH_NOT_MLP',
    ]) {
      expect(codes.has(c), c).toBe(true);
    }
  });
  // torch.save(model) files are read now (as inert module records): test/architectures.test.ts loads these three
  for (const fx of hostile.fixtures.filter((f) => f.code !== 'PTH_WHOLE_MODULE')) {
    test(`${fx.file} -> ${fx.code} (${fx.why})`, async () => {
      const bytes = bytesOf(join(FIXTURES, 'hostile', fx.file));
      const err = await loadMlp(bytes).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(PthError);
      const e = err as PthError;
      expect(e.code, e.message).toBe(fx.code);
      expect(e.message).not.toMatch(/\n/);
      expect(e.message.length).toBeLessThan(400);
      expect(e.hint?.length).toBeGreaterThan(0);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  }
});

describe('error messages name the culprit', () => {
  const msg = async (file: string) =>
    ((await loadMlp(bytesOf(join(FIXTURES, 'hostile', file))).catch((e: PthError) => e)) as PthError).message;
  test('an unsafe global is named', async () => {
    expect(await msg('global_os_system.pth')).toMatch(/posix\.system|os\.system/);
    expect(await msg('stack_global_getattr.pth')).toMatch(/builtins\.getattr/);
    expect(await msg('inst_os_system.pth')).toMatch(/os\.system/);
  });
  test('a tensor that breaks the chain is named', async () => {
    expect(await msg('conv_net.pth')).toMatch(/conv1\.weight.*\[4,1,3,3\]/);
    expect(await msg('chain_mismatch.pth')).toMatch(/fc2\.weight/);
    expect(await msg('batchnorm_extra.pth')).toMatch(/bn\.running_mean/);
  });
  test('integer weights name the dtype', async () => {
    expect(await msg('int32_weights.pth')).toMatch(/fc1\.weight has dtype int32/);
  });
});
