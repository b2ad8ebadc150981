/** What the token loop drives: `TurnWriter`'s two calls (structural, so any tree's writer fits). */
export interface TokenWriter {
  emit(event: { type: 'agent_choice'; data: { content: string } }): void;
  settle(): Promise<unknown>;
}

/**
 * Emits `tokens` deltas, one per writer per macrotask turn (sessions streaming side by side), and lets
 * every writer settle each `ticksPerSettle` turns, as a turn awaits its appends now and then.
 */
export async function emitTokens(writers: readonly TokenWriter[], tokens: number, ticksPerSettle: number): Promise<number> {
  let emitted = 0;
  while (emitted < tokens) {
    for (let tick = 0; tick < ticksPerSettle && emitted < tokens; tick++) {
      for (const w of writers) w.emit({ type: 'agent_choice', data: { content: 'tok ' } });
      emitted += writers.length;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(writers.map((w) => w.settle()));
  }
  return emitted;
}
