import { describe, expect, it } from 'vitest';
import { testSessionRecord } from '../../store/testing/fixtures.js';
import { countAtJoin, type Join } from './join.js';

const join = (gap: Join['gap']): Join => ({ seq: 10, row: Promise.resolve(undefined), gap });
const row = (lastSeq: number, count: number) => testSessionRecord('s', { last_event_seq: lastSeq, message_count: count });

describe('countAtJoin', () => {
  it('takes the row as it is when nothing past the join is in it', () => {
    expect(countAtJoin(join([]), row(10, 4), 10, false)).toBe(4);
    // Events tapped after the read (past its seq) are not in its count.
    expect(countAtJoin(join([{ seq: 12, index: 4 }]), row(11, 4), 12, false)).toBe(4);
  });

  it("is exact when the first event past the join that may write a message is a user message (its index)", () => {
    expect(countAtJoin(join([{ seq: 12, index: 4 }, { seq: 20, index: undefined }]), row(21, 6), 21, false)).toBe(4);
  });

  it('otherwise counts every event past the join that may have written a message as one', () => {
    // A step's usage and the turn's end: at most two messages, maybe none.
    expect(countAtJoin(join([{ seq: 11, index: undefined }, { seq: 12, index: undefined }]), row(12, 5), 12, false)).toBe(3);
    expect(countAtJoin(join([{ seq: 11, index: undefined }]), row(11, 0), 11, false)).toBe(0);
  });

  it('waits once for events the row holds but the tap has not shown, then counts them as messages', () => {
    expect(countAtJoin(join([]), row(15, 5), 10, false)).toBe('wait');
    expect(countAtJoin(join([]), row(15, 5), 10, true)).toBe(0);
    expect(countAtJoin(join([{ seq: 11, index: 3 }]), row(15, 5), 11, true)).toBe(3);
  });
});
