import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { bearerAuth, tokenMatches } from './auth.js';

function app(token: string | undefined): Hono {
  const hono = new Hono();
  hono.use('*', bearerAuth(token));
  hono.get('/x', (c) => c.text('in'));
  return hono;
}

const get = (hono: Hono, authorization?: string) =>
  hono.request('/x', authorization === undefined ? {} : { headers: { authorization } });

describe('tokenMatches', () => {
  it.each<[string, string, boolean]>([
    ['s3cret', 's3cret', true],
    ['s3cret', 's3creT', false],
    ['s3cret', 's3cret-and-more', false],
    ['s3cret', '', false],
    ['s3cret', 's3cre', false],
    ['ünïcode', 'ünïcode', true],
  ])('%j vs %j -> %s', (expected, given, result) => {
    expect(tokenMatches(expected, given)).toBe(result);
  });
});

describe('bearerAuth', () => {
  it('lets everything through when no token is configured', async () => {
    expect((await get(app(undefined))).status).toBe(200);
    expect((await get(app(''), 'Bearer whatever')).status).toBe(200);
  });

  it.each([
    ['Bearer tok', 200],
    ['bearer tok', 200],
    ['Bearer   tok  ', 200],
    ['Bearer wrong', 401],
    ['Bearer ', 401],
    ['Bearer', 401],
    ['Basic dG9rOg==', 401],
    ['tok', 401],
    ['Bearer tok extra', 401],
  ])('Authorization %j -> %i', async (header, status) => {
    expect((await get(app('tok'), header)).status).toBe(status);
  });

  it('answers a missing token with 401, a challenge and an error body, without reaching the route', async () => {
    const response = await get(app('tok'));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect(await response.json()).toEqual({ code: 'unauthorized', message: 'Missing or wrong bearer token' });
  });
});
