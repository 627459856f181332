// The option parser in-process: util.parseArgs does the parsing, our layer keeps the messages and what parseArgs
// does not do (a value option always takes the next word, "given twice", the value validators).
import { describe, expect, it } from 'vitest';
import { parseArgs, positiveInt, positiveNumber, indexList, type OptionSpecs } from '../src/args.js';
import { UsageError } from '../src/errors.js';

const specs: OptionSpecs = {
  model: { type: 'string' },
  lr: { type: 'string', parse: positiveNumber },
  limit: { type: 'string', parse: positiveInt },
  index: { type: 'string', parse: indexList, multiple: true },
  image: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

function refusal(argv: string[]): { message: string; code: string; exitCode: number } {
  try {
    parseArgs('predict', argv, specs);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    const { message, code, exitCode } = err as UsageError;
    return { message, code, exitCode };
  }
  throw new Error(`accepted ${JSON.stringify(argv)}`);
}

describe('parseArgs', () => {
  it('reads values in both forms, flags, short flags, repeated options and positionals', () => {
    const parsed = parseArgs(
      'predict',
      ['a.png', '--model', 'm.pth', '--lr=0.5', '--index', '3,17', '--index', '42', '-h', '--json', 'b.png'],
      specs,
    );
    expect(parsed.options).toEqual({ model: 'm.pth', lr: 0.5, index: [3, 17, 42], help: true, json: true });
    expect(parsed.positionals).toEqual(['a.png', 'b.png']);
  });

  it('gives a value option the next word even when it starts with a dash', () => {
    expect(parseArgs('predict', ['--model', '--json'], specs).options).toEqual({ model: '--json' });
    expect(parseArgs('predict', ['--model', '-'], specs).options).toEqual({ model: '-' });
    expect(parseArgs('predict', ['--model', ''], specs).options).toEqual({ model: '' });
    expect(refusal(['--lr', '-1'])).toMatchObject({
      message: 'invalid --lr: "-1" (expected a number > 0)',
      code: 'CLI_BAD_VALUE',
      exitCode: 2,
    });
    expect(refusal(['--lr=-1']).message).toBe('invalid --lr: "-1" (expected a number > 0)');
  });

  it('ends options at --', () => {
    const parsed = parseArgs('predict', ['--json', '--', '--limit', '-h'], specs);
    expect(parsed.options).toEqual({ json: true });
    expect(parsed.positionals).toEqual(['--limit', '-h']);
  });

  it("turns parseArgs' refusals into one-line messages with stable codes", () => {
    expect(refusal(['--frobnicate'])).toMatchObject({
      message: expect.stringMatching(/^unknown option --frobnicate \(see .* predict --help\)$/),
      code: 'CLI_UNKNOWN_OPTION',
    });
    expect(refusal(['--frob=1']).message).toMatch(/^unknown option --frob \(see /);
    expect(refusal(['-x']).message).toMatch(/^unknown option -x \(see /);
    expect(refusal(['--json', '-1']).message).toMatch(/^unknown option -1 \(see /);
    expect(refusal(['--model'])).toMatchObject({
      message: expect.stringMatching(/^--model needs a value \(see /),
      code: 'CLI_MISSING_VALUE',
    });
    expect(refusal(['--json=yes']).message).toMatch(/^--json takes no value, got "yes" \(see /);
    expect(refusal(['--json=']).message).toMatch(/^--json takes no value, got "" \(see /);
    for (const message of [refusal(['--frobnicate']).message, refusal(['--model']).message])
      expect(message).not.toContain('\n');
  });

  it('refuses an option given twice, flags too, in the order of the words', () => {
    expect(refusal(['--limit', '3', '--limit', '4']).message).toMatch(/^--limit given twice \(see /);
    expect(refusal(['--json', '--json']).message).toMatch(/^--json given twice \(see /);
    expect(refusal(['--limit', 'abc', '--limit', '4']).message).toBe(
      'invalid --limit: "abc" (expected a whole number >= 1)',
    );
  });

  it('does not take prototype names for options', () => {
    expect(refusal(['--constructor']).message).toMatch(/^unknown option --constructor /);
    expect(refusal(['--__proto__', 'x']).message).toMatch(/^unknown option --__proto__ /);
  });
});
