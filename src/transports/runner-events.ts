import type { RunnerEvent } from '../protocol/runner-api.js';

/**
 * Runner events between transports: the runner gateway publishes, the hub (and anyone else) follows,
 * so neither imports the other. Made once per Tower by the composition root.
 */
export class RunnerEvents {
  private readonly listeners = new Set<(event: RunnerEvent) => void>();

  publish(event: RunnerEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }

  subscribe(listener: (event: RunnerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
