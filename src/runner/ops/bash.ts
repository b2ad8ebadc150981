import { stat } from 'node:fs/promises';
import { TowerError } from '../../protocol/errors.js';
import type { BashArgs, BashResult } from '../../protocol/runner.js';
import { LIMITS, displayPath, resolveInsideRoot } from '../executor/index.js';
import { chooseSandbox } from '../executor/os-sandbox.js';
import { runCommand } from '../executor/run-command.js';
import type { OpContext, OpOutcome } from './context.js';
import { spillIfLong } from './spill.js';

/** Collects one stream up to the cap; past it, bytes are counted and dropped. */
class StreamBuffer {
  private readonly parts: string[] = [];
  private bytes = 0;
  capped = false;
  push(data: string): boolean {
    if (this.capped) return false;
    const size = Buffer.byteLength(data, 'utf8');
    if (this.bytes + size > LIMITS.bashMaxCaptureBytes) {
      this.capped = true;
      return false;
    }
    this.bytes += size;
    this.parts.push(data);
    return true;
  }
  text(): string {
    return this.parts.join('');
  }
}

/**
 * `bash`: the executor's `runCommand` (own process group, whole tree killed on timeout and cancel, stdin
 * closed), with seed 004's shape: stdout and stderr apart, each streamed live through `ctx.onOutput` and
 * capped at 10 MB. The operator's allow/deny list is checked by the caller before this runs.
 */
export async function bashOp(args: BashArgs, ctx: OpContext): Promise<OpOutcome> {
  const timeoutSec = args.timeout ?? LIMITS.bashDefaultTimeoutSec;
  if (timeoutSec > LIMITS.bashMaxTimeoutSec) {
    // Refused, not clamped: a silently shortened timeout would look like a hang to the caller.
    throw new TowerError('invalid_request', `timeout may be at most ${LIMITS.bashMaxTimeoutSec} seconds, got ${timeoutSec}`);
  }
  const cwd = await resolveInsideRoot(ctx.root, args.workdir ?? '.');
  const st = await stat(cwd).catch(() => null);
  if (st === null || !st.isDirectory()) {
    throw new TowerError('invalid_request', `workdir ${displayPath(ctx.root, cwd)} is not a directory in the workspace`);
  }
  if (ctx.signal.aborted) throw new TowerError('tool_failed', 'bash was canceled before it started');

  const out = { stdout: new StreamBuffer(), stderr: new StreamBuffer() };
  const settings = ctx.commands;
  const sandbox = await chooseSandbox({
    mode: settings.sandbox,
    network: settings.network,
    hide: settings.hide,
    root: ctx.root,
    ...(settings.logger ? { logger: settings.logger } : {}),
  });
  const outcome = await runCommand({
    env: settings.env,
    sandbox: sandbox.kind === 'bwrap' ? sandbox.options : null,
    registry: settings.registry,
    command: args.command,
    cwd,
    timeoutMs: timeoutSec * 1000,
    signal: ctx.signal,
    onOutput: (stream, data) => {
      if (out[stream].push(data)) ctx.onOutput?.(stream, data);
    },
  });
  const stdout = await spillIfLong(out.stdout.text(), ctx.root, ctx.taskId, 'stdout');
  const stderr = await spillIfLong(out.stderr.text(), ctx.root, ctx.taskId, 'stderr');
  const notes: string[] = [];
  if (out.stdout.capped || out.stderr.capped || outcome.capped) notes.push('[output exceeded 10 MB; the rest was discarded]');
  // One file_path field: stdout's file when stdout was long, else stderr's; stderr names its own in a note.
  const primary = stdout.truncated ? stdout : stderr.truncated ? stderr : undefined;
  const stderrText = stdout.truncated && stderr.truncated
    ? `${stderr.text}\n[stderr truncated: full text in ${stderr.file_path}, ${stderr.total_size} bytes]`
    : stderr.text;
  const exitCode = outcome.ending === 'canceled' ? 130 : outcome.exitCode;
  const result: BashResult = {
    stdout: stdout.text,
    stderr: notes.length > 0 ? [stderrText, ...notes].filter(Boolean).join('\n') : stderrText,
    exit_code: exitCode,
    ...(primary ? { truncated: true, file_path: primary.file_path, total_size: primary.total_size } : {}),
  };
  switch (outcome.ending) {
    case 'exited':
      return { success: true, result, exit_code: exitCode };
    case 'timeout':
      return { success: false, result, exit_code: 124, error: `command timed out after ${timeoutSec} seconds; its process tree was killed` };
    case 'canceled':
      return { success: false, result, exit_code: exitCode, error: 'command was canceled; its process tree was killed' };
  }
}
