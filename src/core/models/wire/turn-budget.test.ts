import { describe, expect, it } from 'vitest';
import { TurnBudget } from './turn-budget.js';

const nextImmediate = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('TurnBudget', () => {
  it('admits everything within the budget of a turn', () => {
    const budget = new TurnBudget(60_000);
    expect([budget.admit(), budget.admit(), budget.admit()]).toEqual([true, true, true]);
  });

  it('over the budget, defers work to coming turns in arrival order, and new work queues behind it', async () => {
    const budget = new TurnBudget(0);
    const ran: string[] = [];
    expect(budget.admit()).toBe(true); // a turn's first chunk always runs
    expect(budget.admit()).toBe(false);
    budget.defer(() => ran.push('a'));
    budget.defer(() => ran.push('b'));
    expect(budget.admit()).toBe(false); // never ahead of waiting work
    expect(budget.backlog).toBe(2);
    await nextImmediate();
    // A zero budget still runs one item per turn.
    expect(ran).toEqual(['a']);
    await nextImmediate();
    await nextImmediate();
    expect(ran).toEqual(['a', 'b']);
    expect(budget.backlog).toBe(0);
    // With nothing waiting, the next chunk opens a new turn.
    await nextImmediate();
    expect(budget.admit()).toBe(true);
  });
});
