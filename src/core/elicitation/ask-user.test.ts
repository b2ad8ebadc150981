import { describe, expect, it } from 'vitest';
import { askUserToolSpec, parseAskUserArgs } from './ask-user.js';
import { compileElicitationSchema } from './schema.js';

describe('askUserToolSpec', () => {
  it('is the ask_user tool with a message and an optional schema', () => {
    expect(askUserToolSpec.name).toBe('ask_user');
    expect(askUserToolSpec.description).toMatch(/question/);
    expect(askUserToolSpec.parameters).toMatchObject({
      type: 'object',
      properties: { message: { type: 'string' }, schema: { type: 'object' } },
      required: ['message'],
    });
  });
});

describe('parseAskUserArgs', () => {
  const schema = { type: 'object', properties: { env: { type: 'string' } } };
  const good: Array<[args: unknown, parsed: unknown]> = [
    [{ message: 'Deploy?' }, { message: 'Deploy?' }],
    [{ message: 'Deploy?', schema }, { message: 'Deploy?', schema }],
    [{ message: 'Deploy?', schema: JSON.stringify(schema) }, { message: 'Deploy?', schema }],
    [{ message: 'Deploy?', schema: null }, { message: 'Deploy?' }],
    [{ message: 'Deploy?', extra: 1 }, { message: 'Deploy?' }],
  ];
  it.each(good)('parses %j', (args, parsed) => {
    expect(parseAskUserArgs(args)).toEqual(parsed);
  });

  const bad: Array<[args: unknown, mentions: string]> = [
    [undefined, 'expects an object'],
    ['Deploy?', 'expects an object'],
    [['Deploy?'], 'expects an object'],
    [{}, '"message"'],
    [{ message: '   ' }, '"message"'],
    [{ message: 42 }, '"message"'],
    [{ message: 'Deploy?', schema: 'not json' }, '"schema"'],
    [{ message: 'Deploy?', schema: '[1]' }, '"schema"'],
    [{ message: 'Deploy?', schema: 5 }, '"schema"'],
    [{ message: 'Deploy?', schema: [] }, '"schema"'],
  ];
  it.each(bad)('refuses %j with a message for the model', (args, mentions) => {
    const result = parseAskUserArgs(args);
    expect(typeof result).toBe('string');
    expect(result).toContain(mentions);
  });

  it('passes the schema on for compiling', () => {
    const parsed = parseAskUserArgs({ message: 'Deploy?', schema });
    expect(typeof parsed === 'string' ? undefined : parsed.schema).toBe(schema);
    expect(() => compileElicitationSchema(schema)).not.toThrow();
  });
});
