import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

/**
 * Clears the process's initial environment block, the bytes `/proc/<pid>/environ` shows to every process
 * of the same user. Tool commands get a filtered environment (tool-env.ts), but with sandbox `none` a
 * command could still `cat /proc/$PPID/environ` (or scan `/proc/*\/environ` for Tower's pid) and read
 * `TOWER_TOKEN` or a provider key the server was started with. Deleting from `process.env` does not help:
 * libc only drops its pointer, the kernel keeps showing the original block.
 *
 * So every variable is first set again (libc copies it to the heap and repoints `environ`, so
 * `process.env` keeps every value), then the original block is overwritten with zeros through
 * `/proc/self/mem` at the addresses `/proc/self/stat` gives (fields 50 and 51). What `process.env` reads
 * is checked afterwards and restored from a copy if anything went missing.
 *
 * What this cannot close, with sandbox `none` (see docs/INTERNALS.md, "Tools and Tower's secrets"): a
 * same-user command can still read Tower's memory (`/proc/<pid>/mem`, ptrace) unless the kernel restricts
 * ptrace (Yama `ptrace_scope` >= 1), and it can read the data dir's token file and config files. Only the
 * bwrap sandbox (own pid namespace, data dir hidden) keeps those from a command.
 */

export type ScrubOutcome = { scrubbed: true; bytes: number } | { scrubbed: false; reason: string };

/** `/proc/self/stat` field numbers (1-based, proc(5)) of the environment block's bounds. */
const ENV_START_FIELD = 50;
const ENV_END_FIELD = 51;

let done: ScrubOutcome | undefined;

/** Clears the initial environment block once per process; later calls return the first outcome. */
export function scrubInitialEnvironment(): ScrubOutcome {
  done ??= scrub();
  return done;
}

/** The block's [start, end) addresses, or null when /proc does not give them (not Linux, older kernel). */
export function environBounds(statText: string): [number, number] | null {
  // comm (field 2) may hold spaces and parentheses: fields are counted after the last ")", from field 3.
  const fields = statText.slice(statText.lastIndexOf(')') + 2).trim().split(' ');
  const start = Number(fields[ENV_START_FIELD - 3]);
  const end = Number(fields[ENV_END_FIELD - 3]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start <= 0 || end <= start) return null;
  return [start, end];
}

function scrub(): ScrubOutcome {
  if (process.platform !== 'linux') return { scrubbed: false, reason: 'not Linux' };
  // A worker thread's process.env is its own copy: re-setting there would not move libc's strings, and
  // zeroing the block would then empty the process's real environment.
  if (!isMainThread) return { scrubbed: false, reason: 'not the main thread' };
  let bounds: [number, number] | null;
  try {
    bounds = environBounds(readFileSync('/proc/self/stat', 'utf8'));
  } catch (err) {
    return { scrubbed: false, reason: `cannot read /proc/self/stat: ${messageOf(err)}` };
  }
  if (bounds === null) return { scrubbed: false, reason: '/proc/self/stat gives no environment bounds' };
  const [start, end] = bounds;
  const saved = { ...process.env };
  // Re-setting moves each "NAME=value" string out of the block (setenv always makes a heap copy).
  for (const [name, value] of Object.entries(saved)) if (value !== undefined) process.env[name] = value;
  let fd: number | undefined;
  try {
    fd = openSync('/proc/self/mem', 'r+');
    writeSync(fd, Buffer.alloc(end - start), 0, end - start, start);
  } catch (err) {
    return { scrubbed: false, reason: `cannot write /proc/self/mem: ${messageOf(err)}` };
  } finally {
    if (fd !== undefined) closeSync(fd);
    restore(saved);
  }
  return { scrubbed: true, bytes: end - start };
}

/** Puts back any variable whose string still lived in the block (a duplicate name, an odd libc). */
function restore(saved: NodeJS.ProcessEnv): void {
  for (const [name, value] of Object.entries(saved)) {
    if (value !== undefined && process.env[name] !== value) process.env[name] = value;
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
