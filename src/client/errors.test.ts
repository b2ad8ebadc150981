import { describe, expect, it } from 'vitest';
import { TowerApiError } from './errors.js';

describe('TowerApiError.fromResponse', () => {
  it('keeps a known code from the error body', () => {
    const error = TowerApiError.fromResponse(409, 'Conflict', JSON.stringify({ code: 'session_busy', message: 'busy' }));
    expect([error.code, error.serverCode, error.message]).toEqual(['session_busy', 'session_busy', 'busy']);
  });

  it('maps a code this client does not know to the status code, keeping the server code', () => {
    const body = JSON.stringify({ code: 'brand_new_code', message: 'from a newer server' });
    const error = TowerApiError.fromResponse(409, 'Conflict', body);
    expect([error.code, error.serverCode, error.message]).toEqual(['conflict', 'brand_new_code', 'from a newer server']);
  });

  it.each([
    [502, '<html>bad gateway</html>', 'internal', '<html>bad gateway</html>'],
    [418, '', 'http_error', "I'm a teapot"],
    [400, '{"code": 1}', 'invalid_request', '{"code": 1}'],
  ])('derives a code from status %i for a body that is not an ErrorBody', (status, body, code, message) => {
    const error = TowerApiError.fromResponse(status, status === 418 ? "I'm a teapot" : '', body);
    expect([error.code, error.message]).toEqual([code, message]);
  });
});

describe('Retry-After', () => {
  it('comes from the header on any error status', () => {
    const body = JSON.stringify({ code: 'internal', message: 'restarting' });
    expect(TowerApiError.fromResponse(503, '', body, '7')).toMatchObject({ status: 503, retryAfterSeconds: 7 });
    expect(TowerApiError.fromResponse(503, '', body, 'soon').retryAfterSeconds).toBeUndefined();
  });
});
