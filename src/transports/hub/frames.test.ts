import { describe, expect, it } from 'vitest';
import { isFailure, parseInbound } from './frames.js';

describe('parseInbound', () => {
  const cases: [string, string][] = [
    ['', 'PARSE_ERROR'],
    ['null', 'PARSE_ERROR'],
    ['42', 'PARSE_ERROR'],
    ['{"type":1}', 'PARSE_ERROR'],
    [`{"type":"${'x'.repeat(60)}"}`, 'PARSE_ERROR'],
    ['{"type":"nope"}', 'UNKNOWN_EVENT'],
    ['{"type":"subscribe","data":[]}', 'INVALID_SUBSCRIBE'],
    ['{"type":"subscribe","data":{"thread_id":"a","session_id":"b"}}', 'INVALID_SUBSCRIBE'],
    ['{"type":"subscribe","data":{"thread_id":"a","from_seq":9007199254740993}}', 'INVALID_SUBSCRIBE'],
    ['{"type":"subscribe","data":{"topics":[]}}', 'INVALID_SUBSCRIBE'],
    ['{"type":"unsubscribe","data":{}}', 'INVALID_SUBSCRIBE'],
    ['{"type":"ack","data":{"session_id":"s","ack_seq":-2}}', 'INVALID_ACK'],
    ['{"type":"auth","data":{"client_id":"has space"}}', 'UNAUTHORIZED'],
    ['{"type":"command","data":{"request_id":"","op":"send"}}', 'INVALID_COMMAND'],
  ];
  it.each(cases)('%s → %s', (text, code) => {
    const r = parseInbound(text);
    expect(isFailure(r) && r.error).toBe(code);
  });

  it('keeps the request_id of a malformed command so the client can match the error', () => {
    const r = parseInbound('{"type":"command","data":{"request_id":"r9","op":""}}');
    expect(r).toMatchObject({ error: 'INVALID_COMMAND', request_id: 'r9' });
  });

  it('parses good frames', () => {
    expect(parseInbound('{"type":"ping"}')).toEqual({ type: 'ping' });
    expect(parseInbound('{"type":"subscribe","timestamp":1,"data":{"session_id":"s","from_seq":3}}')).toEqual({ type: 'subscribe', data: { session_id: 's', from_seq: 3 } });
    expect(parseInbound('{"type":"command","data":{"request_id":"r","op":"send","session_id":"s","content":"x"}}')).toMatchObject({ type: 'command', data: { op: 'send', content: 'x' } });
  });
});
