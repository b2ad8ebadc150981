import { APICallError, RetryError } from 'ai';
import { describe, expect, it } from 'vitest';
import { TowerError } from '../../protocol/errors.js';
import { mapModelError } from './errors.js';

const http = (statusCode: number | undefined, message: string, extra: Partial<{ responseBody: string; cause: unknown }> = {}) =>
  new APICallError({ message, url: 'http://x', requestBodyValues: {}, statusCode, ...extra });

describe('mapModelError', () => {
  it('maps HTTP statuses', () => {
    expect(mapModelError(http(429, 'slow down')).code).toBe('rate_limited');
    expect(mapModelError(http(400, 'bad', { responseBody: '{"error":{"code":"context_length_exceeded"}}' })).code).toBe(
      'context_too_long',
    );
    expect(mapModelError(http(400, 'Too many tokens in the request')).code).toBe('context_too_long');
    expect(mapModelError(http(413, 'Request exceeds the maximum size')).code).toBe('context_too_long');
    expect(mapModelError(http(401, 'invalid x-api-key'))).toEqual({ code: 'model_http_error', message: 'HTTP 401: invalid x-api-key' });
  });

  it('finds socket failures in the cause chain', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(mapModelError(http(undefined, 'Cannot connect to API', { cause: refused })).code).toBe('network_error');
    const dns = Object.assign(new Error('getaddrinfo ENOTFOUND nowhere'), { code: 'ENOTFOUND' });
    expect(mapModelError(new TypeError('fetch failed', { cause: dns })).code).toBe('network_error');
    const reset = new TypeError('terminated', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) });
    expect(mapModelError(reset).code).toBe('network_error');
    expect(mapModelError(new DOMException('timed out', 'TimeoutError')).code).toBe('network_error');
  });

  it('maps stream error objects, retry wrappers and Tower errors', () => {
    expect(mapModelError({ type: 'rate_limit_error', message: 'busy' })).toEqual({ code: 'rate_limited', message: 'busy' });
    expect(mapModelError({ type: 'invalid_request_error', message: 'prompt is too long' }).code).toBe('context_too_long');
    expect(mapModelError({ type: 'api_error', message: 'oops' })).toEqual({ code: 'model_error', message: 'oops' });
    const retry = new RetryError({ message: 'failed', reason: 'maxRetriesExceeded', errors: [http(429, 'x')] });
    expect(mapModelError(retry).code).toBe('rate_limited');
    expect(mapModelError(new TowerError('unknown_model', 'no such model')).code).toBe('unknown_model');
    expect(mapModelError(new Error('weird'))).toEqual({ code: 'model_error', message: 'weird' });
    expect(mapModelError('plain')).toEqual({ code: 'model_error', message: 'plain' });
  });
});
