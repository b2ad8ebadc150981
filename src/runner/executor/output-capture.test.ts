import { describe, expect, it } from 'vitest';
import { OutputCapture } from './output-capture.js';

describe('OutputCapture', () => {
  it('interleaves streams in arrival order and forwards each chunk', () => {
    const seen: string[] = [];
    const capture = new OutputCapture(100, (stream, data) => seen.push(`${stream}:${data}`));
    capture.push('stdout', Buffer.from('a'));
    capture.push('stderr', Buffer.from('b'));
    capture.push('stdout', Buffer.from('c'));
    expect(capture.finish()).toBe('abc');
    expect(seen).toEqual(['stdout:a', 'stderr:b', 'stdout:c']);
  });

  it('joins a multi-byte character split across chunks', () => {
    const capture = new OutputCapture(100);
    const bytes = Buffer.from('é');
    capture.push('stdout', bytes.subarray(0, 1));
    capture.push('stdout', bytes.subarray(1));
    expect(capture.finish()).toBe('é');
  });

  it('stops collecting and forwarding at the byte cap', () => {
    const seen: string[] = [];
    const capture = new OutputCapture(5, (_, data) => seen.push(data));
    capture.push('stdout', Buffer.from('abc'));
    capture.push('stdout', Buffer.from('defgh'));
    capture.push('stdout', Buffer.from('ijk'));
    expect(capture.capped).toBe(true);
    expect(capture.finish()).toBe('abcde');
    expect(seen).toEqual(['abc', 'de']);
  });

  it('survives a throwing listener', () => {
    const capture = new OutputCapture(100, () => {
      throw new Error('listener bug');
    });
    capture.push('stdout', Buffer.from('ok'));
    expect(capture.finish()).toBe('ok');
  });
});
