import type { MiddlewareHandler } from 'hono';

const JSON_TYPE = /^application\/([\w.-]+\+)?json\s*(;|$)/i;

/**
 * For routes whose JSON body is optional (interrupt): an empty body sent with a JSON content type
 * (`fetch(url, {method: 'POST', headers: {'content-type': 'application/json'}})`, a bare `curl -XPOST`
 * with that header) means "no body", not malformed JSON. The body is read once here (under the body
 * limit, which runs first) and the validator then parses `{}`.
 */
export const emptyJsonMeansNoBody: MiddlewareHandler = async (c, next) => {
  if (JSON_TYPE.test(c.req.header('content-type') ?? '')) {
    const text = await c.req.text();
    // Hono keeps promises of the read bodies in bodyCache (its type says methods).
    if (text.trim() === '') (c.req.bodyCache as Record<string, Promise<unknown>>).text = Promise.resolve('{}');
  }
  await next();
};
