import { describe, expect, it } from 'vitest';
import { SseReader, type SseMessage } from './sse-reader.js';

const encoder = new TextEncoder();

function parseAll(chunks: Array<string | Uint8Array>): SseMessage[] {
  const parser = new SseReader();
  return chunks.flatMap((chunk) => parser.push(chunk));
}

const SAMPLE =
  'retry: 1000\n\n' +
  ': ping\n\n' +
  'id: 1\nevent: agent_choice\ndata: {"content":"héllo ✓ 🚀"}\n\n' +
  'id: 2\r\nevent: tool_call\r\ndata: line one\r\ndata: line two\r\n\r\n' +
  'id: 3\rdata:no-space\r\r' +
  'data\n\n';

const SAMPLE_EXPECTED: SseMessage[] = [
  { event: 'agent_choice', data: '{"content":"héllo ✓ 🚀"}', id: '1' },
  { event: 'tool_call', data: 'line one\nline two', id: '2' },
  { event: 'message', data: 'no-space', id: '3' },
  { event: 'message', data: '', id: '3' },
];

describe('SseReader', () => {
  it.each<[string, string, SseMessage[]]>([
    ['LF endings', 'data: a\n\n', [{ event: 'message', data: 'a', id: '' }]],
    ['CRLF endings', 'event: x\r\ndata: a\r\n\r\n', [{ event: 'x', data: 'a', id: '' }]],
    ['CR endings', 'id: 7\rdata: a\r\r', [{ event: 'message', data: 'a', id: '7' }]],
    ['multi-line data', 'data: a\ndata:\ndata: b\n\n', [{ event: 'message', data: 'a\n\nb', id: '' }]],
    ['only one leading space is dropped', 'data:  two spaces\n\n', [{ event: 'message', data: ' two spaces', id: '' }]],
    ['colon inside the value', 'data: {"a":"b:c"}\n\n', [{ event: 'message', data: '{"a":"b:c"}', id: '' }]],
    ['comments are ignored', ': ping\n: another\ndata: x\n: mid\n\n', [{ event: 'message', data: 'x', id: '' }]],
    ['a comment alone dispatches nothing', ': ping\n\n', []],
    ['event without data is not dispatched', 'event: x\nid: 4\n\n', []],
    ['event type does not leak to the next event', 'event: x\ndata: 1\n\ndata: 2\n\n', [
      { event: 'x', data: '1', id: '' },
      { event: 'message', data: '2', id: '' },
    ]],
    ['id persists across events', 'id: 5\ndata: 1\n\ndata: 2\n\n', [
      { event: 'message', data: '1', id: '5' },
      { event: 'message', data: '2', id: '5' },
    ]],
    ['id with NUL is ignored', 'id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n', [
      { event: 'message', data: 'a', id: '1' },
      { event: 'message', data: 'b', id: '1' },
    ]],
    ['unknown fields are ignored', 'foo: bar\ndata: a\n\n', [{ event: 'message', data: 'a', id: '' }]],
    ['leading BOM is stripped', '\uFEFFdata: a\n\n', [{ event: 'message', data: 'a', id: '' }]],
    ['missing trailing blank line: not dispatched', 'data: a\n', []],
    ['missing trailing newline: not dispatched', 'data: a\n\ndata: b', [{ event: 'message', data: 'a', id: '' }]],
  ])('%s', (_name, input, expected) => {
    expect(parseAll([input])).toEqual(expected);
  });

  it('parses the sample in one chunk', () => {
    expect(parseAll([SAMPLE])).toEqual(SAMPLE_EXPECTED);
  });

  it('gives the same result when the bytes are split at every boundary', () => {
    const bytes = encoder.encode(SAMPLE);
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(parseAll([bytes.slice(0, cut), bytes.slice(cut)]), `cut at ${cut}`).toEqual(SAMPLE_EXPECTED);
    }
  });

  it('gives the same result when fed one byte at a time', () => {
    const bytes = encoder.encode(SAMPLE);
    const chunks = Array.from(bytes, (_byte, i) => bytes.slice(i, i + 1));
    expect(parseAll(chunks)).toEqual(SAMPLE_EXPECTED);
  });

  it('treats CR then LF in separate chunks as one line ending', () => {
    expect(parseAll(['data: a\r', '\n', '\r', '\ndata: b\r\n\r\n'])).toEqual([
      { event: 'message', data: 'a', id: '' },
      { event: 'message', data: 'b', id: '' },
    ]);
  });

  it('keeps the last valid retry value', () => {
    const parser = new SseReader();
    parser.push('retry: 1500\n\nretry: soon\n\n');
    expect(parser.retry).toBe(1500);
  });
});
