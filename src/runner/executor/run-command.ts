import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { LIMITS } from './limits.js';
import { OutputCapture, type OutputStream } from './output-capture.js';
import { terminateGroup } from './process-group.js';

export interface RunCommandOptions {
  command: string;
  cwd: string;
  timeoutMs: number;
  signal: AbortSignal;
  onOutput?: (stream: OutputStream, data: string) => void;
}

interface OutcomeBase {
  /** stdout and stderr interleaved in arrival order, at most `bashMaxCaptureBytes`. */
  output: string;
  /** Output beyond the capture cap was dropped. */
  capped: boolean;
  /** Background jobs still holding the output pipes after bash exited were terminated. */
  killedBackground: boolean;
}

/**
 * `exited`: bash ended on its own, with its exit code (128+N when signal N ended it). `timeout`: we ended it,
 * exit code 124 like coreutils `timeout`. `canceled`: we ended it on abort; no exit code, since it would only
 * reflect our own SIGTERM.
 */
export type CommandOutcome = OutcomeBase &
  ({ ending: 'exited' | 'timeout'; exitCode: number } | { ending: 'canceled'; exitCode: null });

type Ending = { kind: 'exited'; code: number } | { kind: 'timeout' } | { kind: 'canceled' };

/**
 * Runs `bash -c command` in its own process group with stdin closed, streaming output as it arrives.
 * On timeout or abort the whole group is terminated (SIGTERM, SIGKILL after `killGraceMs`) before this
 * resolves, so no process of the command outlives the call. Rejects only if bash cannot be started.
 */
export async function runCommand(opts: RunCommandOptions): Promise<CommandOutcome> {
  const child = spawn('bash', ['-c', opts.command], {
    cwd: opts.cwd,
    detached: true, // leader of a new process group: one signal reaches every descendant
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TOWER: '1' },
  });
  const capture = new OutputCapture(LIMITS.bashMaxCaptureBytes, opts.onOutput);
  child.stdout.on('data', (chunk: Buffer) => capture.push('stdout', chunk));
  child.stderr.on('data', (chunk: Buffer) => capture.push('stderr', chunk));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const exited = new Promise<number>((resolve) =>
    child.once('exit', (code, signal) => resolve(exitCodeOf(code, signal))),
  );

  const pid = await new Promise<number>((resolve, reject) => {
    // Never fall back to a made-up pid: signalling `-pid` with a wrong value could hit unrelated processes.
    child.once('spawn', () => (child.pid === undefined ? reject(new Error('bash started without a pid')) : resolve(child.pid)));
    child.once('error', reject);
  });

  const ending = await new Promise<Ending>((resolve) => {
    const timer = setTimeout(() => finish({ kind: 'timeout' }), opts.timeoutMs);
    const onAbort = (): void => finish({ kind: 'canceled' });
    function finish(value: Ending): void {
      clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      resolve(value); // later calls are no-ops: a promise settles once
    }
    void exited.then((code) => finish({ kind: 'exited', code }));
    opts.signal.addEventListener('abort', onAbort, { once: true });
    if (opts.signal.aborted) onAbort();
  });

  let killedBackground = false;
  if (ending.kind === 'exited') {
    // bash is done, but a background job may still hold the pipes; give it a moment to finish writing,
    // then end it rather than leave the call hanging until the timeout.
    const drained = await settlesWithin(closed, LIMITS.pipeDrainGraceMs, opts.signal);
    if (!drained) {
      await terminateGroup(pid, LIMITS.killGraceMs);
      killedBackground = true;
    }
  } else {
    await terminateGroup(pid, LIMITS.killGraceMs);
  }
  // Every writer is gone now; wait briefly for the last buffered bytes, then stop reading regardless.
  await settlesWithin(closed, LIMITS.pipeDrainGraceMs);
  child.stdout.destroy();
  child.stderr.destroy();

  const output = capture.finish();
  const base = { output, capped: capture.capped, killedBackground };
  if (ending.kind === 'exited') return { ...base, ending: 'exited', exitCode: ending.code };
  if (ending.kind === 'timeout') return { ...base, ending: 'timeout', exitCode: 124 };
  return { ...base, ending: 'canceled', exitCode: null };
}

/** Shell convention: a process ended by signal N reports 128+N. */
function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const signo = signal === null ? undefined : constants.signals[signal];
  return 128 + (signo ?? 0);
}

/** Resolves true if `promise` settles within `ms`, false on timeout or abort. */
function settlesWithin(promise: Promise<void>, ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), ms);
    const onAbort = (): void => done(false);
    function done(value: boolean): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(value);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) done(false);
    void promise.then(() => done(true));
  });
}
