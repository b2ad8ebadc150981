import { describe, expect, it } from 'vitest';
import { makeMessage, parseFrame, parseOperationArgs, RUNNER_MAX_FRAME_BYTES } from './runner.js';

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
