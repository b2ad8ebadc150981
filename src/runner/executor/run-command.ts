import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { constants } from 'node:os';
import { bwrapArgs, type BwrapOptions } from '../bwrap.js';
import type { ProcessRegistry } from '../process-registry.js';
import { LIMITS } from './limits.js';
import { OutputCapture, type OutputStream } from './output-capture.js';
import { MARKER_VAR, findTree, readProcInfo, terminateTree, type TreeId } from './process-group.js';

export interface RunCommandOptions {
  command: string;
  cwd: string;
  timeoutMs: number;
  signal: AbortSignal;
  onOutput?: (stream: OutputStream, data: string) => void;
  /** The complete environment (see tool-env.ts); the run's marker and TOWER=1 are added. */
  env: Record<string, string>;
  /** Run inside bubblewrap with these settings; `null` runs bash directly. */
  sandbox: Omit<BwrapOptions, 'root'> | null;
  registry: ProcessRegistry;
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
 * Runs `bash -c command` (inside bwrap when `sandbox` is set) in its own process group with stdin closed,
 * streaming output as it arrives. The command is in the registry before it is spawned, so a crash of the
 * server at any moment leaves a record the next start reaps. On timeout or abort the whole tree is
 * terminated (SIGTERM, SIGKILL after `killGraceMs`, see process-group.ts) before this resolves. Rejects
 * only if the command cannot be started.
 */
export async function runCommand(opts: RunCommandOptions): Promise<CommandOutcome> {
  const id = randomUUID();
  const record = { id, command: opts.command.slice(0, 500), working_dir: opts.cwd, started_at: new Date().toISOString() };
  await opts.registry.put(record);
  const [file, args] = opts.sandbox
    ? ['bwrap', [...bwrapArgs({ ...opts.sandbox, root: opts.cwd }), '--', 'bash', '-c', opts.command]]
    : ['bash', ['-c', opts.command]];
  const child = spawn(file, args, {
    cwd: opts.cwd,
    detached: true, // leader of a new process group: one signal reaches every descendant
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...opts.env, TOWER: '1', [MARKER_VAR]: id },
  });
  const capture = new OutputCapture(LIMITS.bashMaxCaptureBytes, opts.onOutput);
  child.stdout.on('data', (chunk: Buffer) => capture.push('stdout', chunk));
  child.stderr.on('data', (chunk: Buffer) => capture.push('stderr', chunk));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const exited = new Promise<number>((resolve) =>
    child.once('exit', (code, signal) => resolve(exitCodeOf(code, signal))),
  );

  let pid: number;
  try {
    pid = await new Promise<number>((resolve, reject) => {
      // Never fall back to a made-up pid: signalling `-pid` with a wrong value could hit unrelated processes.
      child.once('spawn', () => (child.pid === undefined ? reject(new Error(`${file} started without a pid`)) : resolve(child.pid)));
      child.once('error', reject);
    });
  } catch (err) {
    await opts.registry.remove(id);
    throw err;
  }
  const tree: TreeId = { pgid: pid, startTicks: (await readProcInfo(pid))?.startTicks ?? 0, marker: id };
  await opts.registry.put({ ...record, pid, start_ticks: tree.startTicks });

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
      await terminateTree(tree, LIMITS.killGraceMs);
      killedBackground = true;
    }
  } else {
    await terminateTree(tree, LIMITS.killGraceMs);
  }
  // Every writer is gone now; wait briefly for the last buffered bytes, then stop reading regardless.
  await settlesWithin(closed, LIMITS.pipeDrainGraceMs);
  child.stdout.destroy();
  child.stderr.destroy();

  await forgetWhenGone(opts.registry, tree);

  const output = capture.finish();
  const base = { output, capped: capture.capped, killedBackground };
  if (ending.kind === 'exited') return { ...base, ending: 'exited', exitCode: ending.code };
  if (ending.kind === 'timeout') return { ...base, ending: 'timeout', exitCode: 124 };
  return { ...base, ending: 'canceled', exitCode: null };
}

/**
 * Removes the command's record once nothing of its tree runs. Background jobs with redirected output may
 * outlive the call (outside the sandbox); their record stays until they end, so a crash still reaps them.
 */
async function forgetWhenGone(registry: ProcessRegistry, tree: TreeId): Promise<void> {
  const check = async (): Promise<boolean> => {
    if ((await findTree(tree)).length > 0) return false;
    await registry.remove(tree.marker);
    return true;
  };
  // A failing registry must not fail a command that ran; the record is then reaped at the next start.
  if (await check().catch(() => true)) return;
  const timer = setInterval(() => {
    void check().then(
      (done) => done && clearInterval(timer),
      () => clearInterval(timer),
    );
  }, 2000);
  timer.unref();
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
