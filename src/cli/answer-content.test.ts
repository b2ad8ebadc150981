import { describe, expect, it } from 'vitest';
import { jsonContent, textContent, typedContent } from './answer-content.js';

const one = (field: Record<string, unknown>) => ({ type: 'object', properties: { value: field }, required: ['value'] });

describe('textContent', () => {
  it('is {answer} without a schema or without properties', () => {
    expect(textContent('main', undefined)).toEqual({ ok: true, content: { answer: 'main' } });
    expect(textContent('main', { type: 'object' })).toEqual({ ok: true, content: { answer: 'main' } });
  });

  it('fills the only required property, else the only property', () => {
    const schema = { type: 'object', properties: { branch: { type: 'string' }, note: { type: 'string' } }, required: ['branch'] };
    expect(textContent('main', schema)).toEqual({ ok: true, content: { branch: 'main' } });
    expect(textContent('x', { properties: { only: {} } })).toEqual({ ok: true, content: { only: 'x' } });
  });

  it('refuses text for several fields', () => {
    const result = textContent('x', { properties: { a: {}, b: {} } });
    expect(result).toEqual({ ok: false, message: 'this question asks for several fields (a, b): answer with a JSON object' });
  });

  it.each<[Record<string, unknown>, string, unknown]>([
    [{ type: 'number' }, '2.5', 2.5],
    [{ type: 'integer' }, ' 3 ', 3],
    [{ type: 'boolean' }, 'Yes', true],
    [{ type: 'boolean' }, 'n', false],
    [{ type: 'string', enum: ['a', 'b'] }, 'b', 'b'],
  ])('converts to %j: %s', (field, text, value) => {
    expect(textContent(text, one(field))).toEqual({ ok: true, content: { value } });
  });

  it.each<[Record<string, unknown>, string, string]>([
    [{ type: 'integer' }, '2.5', 'value must be an integer, got "2.5"'],
    [{ type: 'number' }, 'many', 'value must be a number, got "many"'],
    [{ type: 'boolean' }, 'perhaps', 'value must be yes or no, got "perhaps"'],
    [{ type: 'string', enum: ['a', 'b'] }, 'c', 'value must be one of "a", "b"'],
  ])('refuses for %j: %s', (field, text, message) => {
    expect(textContent(text, one(field))).toEqual({ ok: false, message });
  });
});

describe('jsonContent and typedContent', () => {
  it('takes JSON objects only', () => {
    expect(jsonContent('{"a":1}')).toEqual({ ok: true, content: { a: 1 } });
    expect(jsonContent('[1]')).toEqual({ ok: false, message: 'the answer must be a JSON object' });
    expect(jsonContent('{')).toMatchObject({ ok: false });
  });

  it('reads a typed line as JSON when it starts with {', () => {
    expect(typedContent(' {"branch":"x"}', one({}))).toEqual({ ok: true, content: { branch: 'x' } });
    expect(typedContent('x', one({}))).toEqual({ ok: true, content: { value: 'x' } });
  });
});
