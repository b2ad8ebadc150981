import { describe, expect, it } from 'vitest';
import { makeMessage, parseFrame, parseOperationArgs, parseParsedFrame, RUNNER_MAX_FRAME_BYTES } from './runner.js';

const frame = (value: unknown): string => JSON.stringify(value);
const envelope = (type: string, payload: unknown) => ({ id: 'm1', type, payload, timestamp: 1_700_000_000_000 });

describe('parseFrame', () => {
  it('accepts every seed-004 message type with its payload', () => {
    const cases: [string, unknown][] = [
      ['welcome', { worknode_id: 'w1', name: 'n', labels: ['a'] }],
      ['heartbeat', { worknode_id: 'w1', name: 'n', labels: [], version: '1', metrics: { cpu_percent: 3.5, memory_percent: 40, disk_percent: 70 } }],
      ['task.request', { task_id: 't1', trace_id: 'x', operation: 'bash', args: { command: 'ls' } }],
      ['task.output', { task_id: 't1', stream: 'stdout', data: 'hi' }],
      ['task.result', { task_id: 't1', success: true, result: { stdout: '' }, exit_code: 0 }],
      ['task.cancel', { task_id: 't1' }],
      ['mcp.call', { call_id: 'c1', server: { name: 's', transport: 'stdio', command: 'x' }, tool_name: 'echo', arguments: { a: 1 } }],
      ['mcp.result', { call_id: 'c1', success: false, error: 'boom' }],
    ];
    for (const [type, payload] of cases) {
      const res = parseFrame(frame(envelope(type, payload)));
      expect(res, type).toMatchObject({ ok: true, message: { id: 'm1', type, payload } });
    }
  });

  it('accepts a binary frame', () => {
    const res = parseFrame(Buffer.from(frame(envelope('task.cancel', { task_id: 't' }))));
    expect(res.ok).toBe(true);
  });

  it('refuses junk with a typed error', () => {
    const cases: [string | Buffer, string][] = [
      ['not json', 'invalid_json'],
      ['', 'invalid_json'],
      [Buffer.from([0xff, 0xfe, 0x00]), 'invalid_json'],
      ['[1,2]', 'invalid_envelope'],
      ['42', 'invalid_envelope'],
      ['null', 'invalid_envelope'],
      [frame({ type: 'welcome', payload: {}, timestamp: 1 }), 'invalid_envelope'],
      [frame({ id: 'x', type: 'welcome', payload: {}, timestamp: 'now' }), 'invalid_envelope'],
      [frame(envelope('task.explode', {})), 'unknown_type'],
      [frame(envelope('__proto__', {})), 'unknown_type'],
      [frame(envelope('toString', {})), 'unknown_type'],
      [frame(envelope('task.request', { task_id: 't', operation: 'format_disk', args: {} })), 'invalid_payload'],
      [frame(envelope('task.output', { task_id: 't', stream: 'stdin', data: '' })), 'invalid_payload'],
      [frame(envelope('heartbeat', { worknode_id: 'w', name: 'n', labels: [], version: '1', metrics: { cpu_percent: 900 } })), 'invalid_payload'],
      [frame(envelope('task.result', 'yes')), 'invalid_payload'],
    ];
    for (const [input, code] of cases) {
      const res = parseFrame(input);
      expect(res.ok, String(input)).toBe(false);
      if (!res.ok) {
        expect(res.error.code, String(input)).toBe(code);
        expect(res.error.message.length).toBeGreaterThan(0);
      }
    }
  });

  it('names the frame it refuses when it could read the envelope', () => {
    const res = parseFrame(frame(envelope('task.cancel', {})));
    expect(res).toMatchObject({ ok: false, error: { code: 'invalid_payload', id: 'm1', type: 'task.cancel' } });
  });

  it('refuses a frame over 16 MiB before parsing it', () => {
    const big = frame(envelope('task.output', { task_id: 't', stream: 'stdout', data: 'x'.repeat(RUNNER_MAX_FRAME_BYTES) }));
    expect(parseFrame(big)).toMatchObject({ ok: false, error: { code: 'frame_too_large' } });
    expect(parseFrame('x'.repeat(100), 50)).toMatchObject({ ok: false, error: { code: 'frame_too_large' } });
  });

  it('round-trips what makeMessage builds', () => {
    const msg = makeMessage('task.output', { task_id: 't', stream: 'stderr', data: 'é' }, 'id-1', 5);
    expect(parseFrame(JSON.stringify(msg))).toEqual({ ok: true, message: msg });
  });
});

describe('parseFrame: the hand-checked task frames', () => {
  // Every shape goes through parseFrame (hand checks first) and through the zod-only reference; the two
  // must agree exactly, accepted output (known keys only) and refusal alike.
  const long = 'x'.repeat(201);
  const request = { task_id: 't1', operation: 'read', args: { path: 'a' } };
  const result = { task_id: 't1', success: true, result: { content: '' } };
  const payloads: [string, unknown][] = [
    ['task.request', request],
    ['task.request', { ...request, trace_id: 'tr', source_instance_id: 'n1', extra: 1 }],
    ['task.request', { task_id: 't1', operation: 'list' }],
    ['task.request', { ...request, args: null }],
    ['task.request', { ...request, task_id: '' }],
    ['task.request', { ...request, task_id: long }],
    ['task.request', { ...request, task_id: 7 }],
    ['task.request', { ...request, operation: 'format_disk' }],
    ['task.request', { ...request, operation: 'toString' }],
    ['task.request', { ...request, trace_id: null }],
    ['task.request', { ...request, source_instance_id: 3 }],
    ['task.request', [request]],
    ['task.request', null],
    ['task.result', result],
    ['task.result', { task_id: 't1', success: false, error: 'boom', exit_code: -1, source_instance_id: 'n1', junk: true }],
    ['task.result', { task_id: 't1', success: true }],
    ['task.result', { ...result, exit_code: 0 }],
    ['task.result', { ...result, exit_code: 1.5 }],
    ['task.result', { ...result, exit_code: '0' }],
    ['task.result', { ...result, success: 'true' }],
    ['task.result', { ...result, error: null }],
    ['task.result', { ...result, task_id: long }],
    ['task.result', 'yes'],
  ];
  const envelopes: unknown[] = [
    ...payloads.map(([type, payload]) => envelope(type, payload)),
    { ...envelope('task.result', result), id: '' },
    { ...envelope('task.result', result), id: long },
    { ...envelope('task.result', result), id: 5 },
    { ...envelope('task.request', request), timestamp: -1 },
    { ...envelope('task.request', request), timestamp: 1.5 },
    { ...envelope('task.request', request), timestamp: '1' },
    { id: 'm1', type: 'task.request', payload: request },
    { ...envelope('task.result', result), extra: 'dropped' },
  ];

  it('agrees with the zod schemas on every shape', () => {
    for (const value of envelopes) {
      const text = frame(value);
      expect(parseFrame(text), text).toStrictEqual(parseParsedFrame(JSON.parse(text)));
    }
  });

  it('accepts the well-formed ones with known keys only', () => {
    const res = parseFrame(frame(envelope('task.request', { ...request, extra: 1 })));
    expect(res).toStrictEqual({ ok: true, message: { id: 'm1', type: 'task.request', payload: request, timestamp: 1_700_000_000_000 } });
    expect(parseFrame(frame(envelope('task.result', { ...result, exit_code: 1.5 })))).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
  });
});

describe('parseOperationArgs', () => {
  it('validates args per operation and applies defaults', () => {
    expect(parseOperationArgs('list', {})).toEqual({ ok: true, args: { path: '.' } });
    expect(parseOperationArgs('list', undefined)).toEqual({ ok: true, args: { path: '.' } });
    expect(parseOperationArgs('read', { path: 'a', offset: 10 })).toEqual({ ok: true, args: { path: 'a', offset: 10 } });
    expect(parseOperationArgs('bash', { command: '' })).toMatchObject({ ok: false, message: expect.stringMatching(/^invalid bash args: command/) });
    expect(parseOperationArgs('read', { path: 'a', offset: -1 })).toMatchObject({ ok: false });
    expect(parseOperationArgs('webfetch', { url: 'http://x', format: 'pdf' })).toMatchObject({ ok: false });
    expect(parseOperationArgs('mcp_call', { server: { name: 's', transport: 'carrier-pigeon' }, tool_name: 't' })).toMatchObject({ ok: false });
    expect(parseOperationArgs('sync_skill', 'zip')).toMatchObject({ ok: false });
  });
});
