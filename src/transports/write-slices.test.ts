import { describe, expect, it } from 'vitest';
import { WriteSlices } from './write-slices.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('WriteSlices', () => {
  it('admits every write while within the budget', () => {
    const slices = new WriteSlices(Infinity);
    for (let i = 0; i < 1000; i++) expect(slices.admit()).toBe(true);
  });

  it('past the budget defers, runs the jobs first come first served in later turns, and admits nobody ahead of them', async () => {
    // A zero budget: the first write of a slice goes out, everything after it waits, one job per turn.
    const slices = new WriteSlices(0);
    const ran: string[] = [];
    expect(slices.admit()).toBe(true);
    expect(slices.admit()).toBe(false);
    for (const name of ['a', 'b', 'c']) slices.defer({ runSlice: () => ran.push(name) });
    expect(slices.waiting).toBe(3);
    await turn();
    expect(ran).toEqual(['a']);
    // Jobs wait: a new writer queues behind them, not ahead.
    expect(slices.admit()).toBe(false);
    slices.defer({ runSlice: () => ran.push('d') });
    for (let i = 0; i < 3; i++) await turn();
    expect(ran).toEqual(['a', 'b', 'c', 'd']);
    expect(slices.waiting).toBe(0);
    // The slice closes on the turn after the last job; the next write starts a fresh one.
    await turn();
    await turn();
    expect(slices.admit()).toBe(true);
  });

  it('the jobs of the turn right after the writes that filled a slice go on with that slice, not a fresh budget', async () => {
    let clock = 0;
    const slices = new WriteSlices(10, () => clock);
    const ran: string[] = [];
    // Writes of one poll phase: the slice opens at 0 and is spent by 11.
    expect(slices.admit()).toBe(true);
    clock = 11;
    for (let i = 0; i < 8; i++) slices.admit();
    expect(slices.admit()).toBe(false);
    for (const name of ['a', 'b', 'c']) slices.defer({ runSlice: () => ran.push(name) });
    // The check phase of the same iteration: one job (every turn makes progress), the rest wait.
    await turn();
    expect(ran).toEqual(['a']);
    // The next iteration's turn has a budget of its own.
    await turn();
    expect(ran).toEqual(['a', 'b', 'c']);
  });

  it('runs many jobs in one turn when the budget allows', async () => {
    const slices = new WriteSlices(Infinity);
    const ran: number[] = [];
    for (let i = 0; i < 100; i++) slices.defer({ runSlice: () => ran.push(i) });
    await turn();
    expect(ran).toHaveLength(100);
  });
});
