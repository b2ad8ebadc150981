import { describe, expect, it } from 'vitest';
import { isTowerError } from '../../protocol/errors.js';
import { compileElicitationSchema, validateElicitationContent } from './schema.js';

const person = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1 },
    env: { type: 'string', enum: ['staging', 'production'] },
    replicas: { type: 'integer', minimum: 1, maximum: 10 },
    ratio: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
    notify: { type: 'boolean', default: false },
  },
  required: ['name'],
  additionalProperties: false,
};

describe('validateElicitationContent', () => {
  const accepted: Array<[content: Record<string, unknown>, value: Record<string, unknown>]> = [
    [{ name: 'Ada' }, { name: 'Ada', notify: false }],
    [
      { name: 'Ada', env: 'staging', replicas: 1, ratio: 1, notify: true },
      { name: 'Ada', env: 'staging', replicas: 1, ratio: 1, notify: true },
    ],
    [{ name: 'Ada', replicas: 10, ratio: 0.01 }, { name: 'Ada', replicas: 10, ratio: 0.01, notify: false }],
  ];
  it.each(accepted)('accepts %j', (content, value) => {
    expect(validateElicitationContent(person, content)).toEqual({ ok: true, value });
  });

  const refused: Array<[content: unknown, mentions: string[]]> = [
    [{}, ['name: is required']],
    [{ name: '' }, ['name: ']],
    [{ name: 7 }, ['name: ', 'expected string']],
    [{ name: 'Ada', env: 'prod' }, ['env: ', 'staging', 'production']],
    [{ name: 'Ada', replicas: 0 }, ['replicas: ', '1']],
    [{ name: 'Ada', replicas: 11 }, ['replicas: ', '10']],
    [{ name: 'Ada', replicas: 1.5 }, ['replicas: ']],
    [{ name: 'Ada', ratio: 0 }, ['ratio: ']],
    [{ name: 'Ada', extra: true }, ['extra']],
    ['Ada', ['answer: ', 'expected object']],
    [{ env: 'prod', replicas: 0 }, ['name: is required', 'env: ', 'replicas: ']],
  ];
  it.each(refused)('refuses %j naming the fields', (content, mentions) => {
    const result = validateElicitationContent(person, content);
    expect(result.ok).toBe(false);
    const message = result.ok ? '' : result.message;
    for (const m of mentions) expect(message).toContain(m);
  });

  it('lists every issue, separated', () => {
    const result = validateElicitationContent(person, { env: 'prod', replicas: 0 });
    expect(result.ok ? [] : result.message.split('; ')).toHaveLength(3);
  });

  it('accepts anything when the question has no schema', () => {
    expect(validateElicitationContent(undefined, { anything: [1, 2] })).toEqual({ ok: true, value: { anything: [1, 2] } });
  });

  it('reports a bad schema as a failed validation rather than throwing', () => {
    const result = validateElicitationContent({ type: 'string' }, {});
    expect(result).toMatchObject({ ok: false });
    expect(result.ok ? '' : result.message).toContain('root must be');
  });

  it('validates nested objects and arrays with dotted paths', () => {
    const schema = {
      type: 'object',
      properties: {
        tags: { type: 'array', items: { type: 'string' } },
        owner: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] },
      },
    };
    const result = validateElicitationContent(schema, { tags: ['a', 2], owner: {} });
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.message).toContain('tags.1: ');
    expect(result.ok ? '' : result.message).toContain('owner.id: is required');
  });
});

describe('compileElicitationSchema', () => {
  it('compiles good schemas, the same object once', () => {
    const compiled = compileElicitationSchema(person);
    expect(compileElicitationSchema(person)).toBe(compiled);
    expect(() => compileElicitationSchema({ type: 'object' })).not.toThrow();
    const withRef = {
      type: 'object',
      $id: 'https://x/a',
      properties: { a: { $ref: '#/$defs/a' } },
      $defs: { a: { type: 'string' } },
    };
    expect(() => compileElicitationSchema(withRef)).not.toThrow();
    // The same $id twice: schemas must not collide in a shared registry.
    expect(() => compileElicitationSchema({ type: 'object', $id: 'https://x/a' })).not.toThrow();
  });

  const junk: Array<[schema: unknown, mentions: string]> = [
    [{}, 'root must be'],
    [{ type: 'string' }, 'root must be'],
    [{ properties: { a: { type: 'string' } } }, 'root must be'],
    ['{"type":"object"}', 'JSON Schema object'],
    [[], 'JSON Schema object'],
    [null, 'JSON Schema object'],
    [{ type: 'object', properties: 'junk' }, 'schema.properties: must be an object'],
    [{ type: 'object', properties: { a: 5 } }, 'schema.properties.a: must be an object'],
    [{ type: 'object', properties: { a: { type: 'wat' } } }, 'schema.properties.a.type: "wat"'],
    [{ type: 'object', required: 5 }, 'schema.required: must be an array'],
    [{ type: 'object', required: [1] }, 'schema.required: must be an array'],
    [{ type: 'object', properties: { a: { enum: 'abc' } } }, 'schema.properties.a.enum'],
    [{ type: 'object', properties: { a: { type: 'integer', minimum: '1' } } }, 'schema.properties.a.minimum: must be a number'],
    [{ type: 'object', properties: { a: { type: 'string', pattern: '(' } } }, 'Invalid regular expression'],
    [{ type: 'object', properties: { a: { anyOf: {} } } }, 'schema.properties.a.anyOf: must be an array'],
    [{ type: 'object', properties: { a: { type: 'array', items: [1] } } }, 'schema.properties.a.items[0]'],
    [{ type: 'object', properties: { a: { $ref: '#/$defs/missing' } } }, 'Reference not found'],
    [{ type: 'object', properties: { a: { $ref: 'https://example.com/s.json' } } }, 'External $ref'],
    [{ type: 'object', if: {}, then: {} }, 'not supported'],
  ];
  it.each(junk)('refuses %j with invalid_request', (schema, mentions) => {
    let error: unknown;
    try {
      compileElicitationSchema(schema as Record<string, unknown>);
    } catch (err) {
      error = err;
    }
    expect(isTowerError(error) && error.code).toBe('invalid_request');
    expect((error as Error).message).toContain(mentions);
  });

  it('refuses schemas nested absurdly deep', () => {
    let schema: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 40; i++) schema = { type: 'object', properties: { a: schema } };
    expect(() => compileElicitationSchema(schema)).toThrow('deep');
  });
});

describe('recursive schemas', () => {
  it('validates through a $ref to the root', () => {
    const tree = {
      type: 'object',
      properties: { name: { type: 'string' }, children: { type: 'array', items: { $ref: '#' } } },
      required: ['name'],
    };
    expect(validateElicitationContent(tree, { name: 'a', children: [{ name: 'b', children: [] }] }).ok).toBe(true);
    const result = validateElicitationContent(tree, { name: 'a', children: [{ children: [] }] });
    expect(result.ok ? '' : result.message).toContain('children.0.name: is required');
  });

  it('refuses a cyclic object instead of recursing forever', () => {
    const cyclic: Record<string, unknown> = { type: 'object' };
    cyclic.properties = { self: cyclic };
    expect(() => compileElicitationSchema(cyclic)).toThrow('deep');
  });
});
