import { performance } from 'node:perf_hooks';
import type { Store } from '../../store/types.js';
import type { ModelStepper, StepPart, StepPartIterator, StepRequest } from '../models/types.js';
import type { ToolExecutor } from '../../protocol/tools.js';
import { intercept } from './intercept.js';

const since = (start: number): number => (performance.now() - start) / 1000;

/** The store, with each `commit` (one group-commit batch) timed and sized. */
export function timedStore<S extends Store>(store: S, on: { committed(entries: number, seconds: number): void; failed(): void }): S {
  return intercept(store, 'commit', (commit) => async (entries) => {
    const start = performance.now();
    try {
      const results = await commit(entries);
      on.committed(entries.length, since(start));
      return results;
    } catch (err) {
      on.failed();
      throw err;
    }
  });
}

export type StepOutcome = 'ok' | 'error' | 'aborted';

/**
 * The stepper, with each step timed from the call to its last part. The iterator is forwarded by hand
 * (no async generator in between), so the parts reach the agent loop exactly as before. An iterator
 * that can be observed (`StepPartIterator.observe`, the wire path's queue) is watched that way and its
 * `next` (and push-mode `drain`) handed on as it is: no promise of the wrapper's per part. Any other is watched through its
 * `next` results.
 */
export function timedStepper<S extends ModelStepper>(stepper: S, observe: (model: string, outcome: StepOutcome, seconds: number) => void): S {
  return intercept(stepper, 'step', (step) => (req: StepRequest): AsyncIterable<StepPart> => ({
    [Symbol.asyncIterator](): StepPartIterator {
      const start = performance.now();
      const inner: StepPartIterator = step(req)[Symbol.asyncIterator]();
      let outcome: StepOutcome = 'ok';
      let done = false;
      const finish = (final: StepOutcome): void => {
        if (done) return;
        done = true;
        observe(req.model, final, since(start));
      };
      const seen = (part: StepPart | undefined): void => {
        if (part?.type === 'error') outcome = 'error';
      };
      const ended = (): void => finish(req.signal.aborted ? 'aborted' : outcome);
      const takeReady = inner.takeReady?.bind(inner);
      const leave = (value?: unknown): Promise<IteratorResult<StepPart>> => {
        ended();
        return inner.return ? inner.return(value) : Promise.resolve({ done: true as const, value: undefined });
      };
      if (inner.observe) {
        inner.observe({ item: seen, end: ended });
        const drain = inner.drain?.bind(inner);
        return { next: inner.next.bind(inner), ...(takeReady ? { takeReady } : {}), ...(drain ? { drain } : {}), return: leave };
      }
      // Made once per step, not per part: `next` runs for every token.
      const onResult = (r: IteratorResult<StepPart>): IteratorResult<StepPart> => {
        if (r.done) ended();
        else seen(r.value);
        return r;
      };
      const onError = (err: unknown): never => {
        finish(req.signal.aborted ? 'aborted' : 'error');
        throw err;
      };
      return {
        // The parts that already arrived, as the stepper hands them over (see StepPartIterator).
        ...(takeReady
          ? {
              takeReady: () => {
                const part = takeReady();
                seen(part);
                return part;
              },
            }
          : {}),
        next: () => inner.next().then(onResult, onError),
        return: leave,
      };
    },
  }));
}

/** The executor, with each tool call timed by tool and outcome. */
export function timedExecutor<E extends ToolExecutor>(executor: E, observe: (tool: string, outcome: StepOutcome, seconds: number) => void): E {
  return intercept(executor, 'execute', (execute) => async (call, ctx) => {
    const start = performance.now();
    try {
      const result = await execute(call, ctx);
      observe(call.name, ctx.signal.aborted ? 'aborted' : result.is_error ? 'error' : 'ok', since(start));
      return result;
    } catch (err) {
      observe(call.name, ctx.signal.aborted ? 'aborted' : 'error', since(start));
      throw err;
    }
  });
}
