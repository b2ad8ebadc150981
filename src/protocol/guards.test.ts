import { describe, expect, it } from 'vitest';
import { isRecord, parseRecord } from './guards.js';

describe('isRecord', () => {
  it('takes objects, refuses null, arrays and primitives', () => {
    expect(isRecord({})).toBe(true);
    expect(isRecord({ a: 1 })).toBe(true);
    expect(isRecord(Object.create(null))).toBe(true);
    for (const value of [null, undefined, [], [1], 'x', 1, true]) expect(isRecord(value), String(value)).toBe(false);
  });
});

describe('parseRecord', () => {
  it('parses the JSON of an object', () => {
    expect(parseRecord('{"a":1,"b":[2]}')).toEqual({ a: 1, b: [2] });
  });

  it('is undefined for other JSON and for text that is not JSON', () => {
    for (const text of ['[1]', 'null', '3', '"s"', 'not json', '', '{"a":']) expect(parseRecord(text), text).toBeUndefined();
  });
});
