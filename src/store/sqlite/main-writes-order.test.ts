import { describe, expect, it } from 'vitest';
import { MainWrites } from './main-writes.js';
import { CommitGate } from './wal-bound.js';

/** A MainWrites over a real gate, with the idle checkpoint and the thread's batches as plain switches. */
function rig() {
  const gate = new CommitGate();
  let idle: Promise<void> | undefined;
  let inFlight = 0;
  let drained: () => void = () => {};
  const writes = new MainWrites({
    gate,
    idleRunning: () => idle,
    threadInFlight: () => inFlight,
    threadDrained: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (drained = resolve))),
    maxDrainMs: 60_000,
  });
  return {
    gate,
    writes,
    idleStart: () => {
      let end: () => void = () => {};
      idle = new Promise<void>((resolve) => (end = resolve));
      return () => {
        idle = undefined;
        end();
      };
    },
    batchSent: () => void inFlight++,
    batchesDone: () => {
      inFlight = 0;
      drained();
    },
  };
}

describe('MainWrites', () => {
  it('runs a write at once, in the call, when nothing is in its way', async () => {
    const { writes } = rig();
    const ran: string[] = [];
    const p = writes.run(() => ran.push('w'));
    expect(ran).toEqual(['w']);
    expect(writes.tryNow(() => ran.push('t'))).toBe(true);
    await p;
    await expect(writes.run(() => {
      throw new Error('boom');
    })).rejects.toThrow('boom');
  });

  it('keeps call order: a write called after the way cleared still waits behind an earlier one', async () => {
    const r = rig();
    const ran: string[] = [];
    const end = r.idleStart();
    const a = r.writes.run(() => ran.push('a'));
    expect(r.writes.tryNow(() => ran.push('t'))).toBe(false);
    end();
    // Clear now, but `a` has not run yet: `b` must not overtake it.
    const b = r.writes.run(() => ran.push('b'));
    expect(ran).toEqual([]);
    await Promise.all([a, b]);
    expect(ran).toEqual(['a', 'b']);
  });

  it('waits out the thread\'s batches under the gate: a commit called meanwhile passes after the write', async () => {
    const r = rig();
    const ran: string[] = [];
    r.batchSent();
    const w = r.writes.run(() => ran.push('write'));
    await Promise.resolve();
    // The drain holds the gate: a commit (which awaits pass() when the gate is closed) goes after the write.
    expect(r.gate.closed).toBe(true);
    const commit = r.gate.pass().then(() => ran.push('commit'));
    expect(ran).toEqual([]);
    r.batchesDone();
    await Promise.all([w, commit]);
    expect(ran).toEqual(['write', 'commit']);
    expect(r.gate.closed).toBe(false);
  });

  it('rejects a waiting write with its own error and runs the next one', async () => {
    const r = rig();
    const end = r.idleStart();
    const a = r.writes.run(() => {
      throw new Error('a failed');
    });
    const b = r.writes.run(() => 'b');
    end();
    await expect(a).rejects.toThrow('a failed');
    await expect(b).resolves.toBe('b');
  });
});
