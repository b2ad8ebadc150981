/**
 * Keeps many model streams from starving the event loop. A provider stream with a backlog is drained in
 * promise reactions, and hundreds of them keep the microtask queue from ever emptying: sockets, timers,
 * `setImmediate` (the group commit) and `nextTick` (node:http uncorks responses there) wait until the
 * storm ends. Every stream asks `mustYield()` per part; once the current macrotask turn has run for
 * `TURN_BUDGET_MS`, all of them wait for `setImmediate`, so each turn of the loop gets its I/O in.
 */
const TURN_BUDGET_MS = 2;

let turnEndsAt = 0;

function endTurn(): void {
  turnEndsAt = 0;
}

/** True when the caller should `await yieldTurn()` before doing more work in this turn. */
export function mustYield(): boolean {
  const now = performance.now();
  if (turnEndsAt === 0) {
    turnEndsAt = now + TURN_BUDGET_MS;
    // Runs after this turn's I/O callbacks: the next turn starts a fresh budget.
    setImmediate(endTurn);
    return false;
  }
  return now > turnEndsAt;
}

export function yieldTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
