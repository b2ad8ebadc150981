import { describe, expect, it } from 'vitest';
import * as wsModule from 'ws';
import { encodeTextFrame, frameText } from './ws-frame.js';

/** ws's own framer (public in ws, absent from its type definitions). */
const { Sender } = wsModule as unknown as { Sender: { frame(data: Buffer, options: Record<string, unknown>): Buffer[] } };

describe('encodeTextFrame', () => {
  it('writes the bytes ws writes for an unmasked text frame, at every length form', () => {
    for (const text of ['', 'a', 'x'.repeat(125), 'y'.repeat(126), 'ü'.repeat(40_000), 'z'.repeat(65_535), 'w'.repeat(70_000)]) {
      const expected = Buffer.concat(Sender.frame(Buffer.from(text), { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false }));
      const got = encodeTextFrame(text);
      expect(got.equals(expected)).toBe(true);
      expect(frameText(got)).toBe(text);
    }
  });
});
