import { describe, expect, it } from 'vitest';
import { TurnBudget } from './turn-budget.js';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('TurnBudget', () => {
  it('starts a turn on its first call and resets once the loop has turned', async () => {
    const budget = new TurnBudget(0);
    expect(budget.spent()).toBe(false);
    expect(budget.spent()).toBe(true);
    expect(budget.spent()).toBe(true);
    await nextTurn();
    expect(budget.spent()).toBe(false);
    expect(budget.spent()).toBe(true);
  });

  it('is not spent within its budget', () => {
    const budget = new TurnBudget(60_000);
    expect(budget.spent()).toBe(false);
    expect(budget.spent()).toBe(false);
  });
});
