import { readdir, readFile } from 'node:fs/promises';
import { errnoCode } from './fs-util.js';

/**
 * Finding and ending everything a command started. `bash` (or `bwrap`) is spawned as the leader of its own
 * process group, so pipelines, `&` jobs and subshells share that group. Processes can leave the group
 * (`setsid`, job control) and be re-parented away from bash (double fork), so on Linux the tree is found
 * three ways, by reading `/proc`:
 *
 * - members of the process group;
 * - descendants (by parent pid) of anything found;
 * - processes whose environment carries the command's marker (`TOWER_TOOL_RUN=<id>`), which survives
 *   `setsid` and re-parenting alike. Only processes started no earlier than the command are examined,
 *   so the scan stays cheap and an unrelated old process is never matched.
 *
 * A process that both leaves the group and rewrites its environment can escape this; under the bwrap
 * sandbox the command runs in its own pid namespace, which the kernel tears down as a whole.
 * Elsewhere (macOS) only the process group is signalled.
 */

export const MARKER_VAR = 'TOWER_TOOL_RUN';

export interface TreeId {
  /** Process group id: the pid of the spawned leader. */
  pgid: number;
  /** The leader's start time in clock ticks since boot (`/proc/<pid>/stat` field 22); 0 when unknown. */
  startTicks: number;
  /** The value of `TOWER_TOOL_RUN` in the command's environment. */
  marker: string;
}

export interface ProcInfo {
  pid: number;
  ppid: number;
  pgrp: number;
  state: string;
  startTicks: number;
}

const POLL_MS = 25;
/** After SIGKILL, how long to wait for the kernel to tear the tree down before giving up on watching it. */
const AFTER_KILL_MS = 1000;
const IS_LINUX = process.platform === 'linux';

/** Parses `/proc/<pid>/stat`; comm may hold spaces and parentheses, so fields are read after the last ")". */
export function parseProcStat(pid: number, text: string): ProcInfo | null {
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const ppid = Number(fields[1]);
  const pgrp = Number(fields[2]);
  const startTicks = Number(fields[19]);
  if (state === undefined || [ppid, pgrp, startTicks].some((n) => !Number.isInteger(n))) return null;
  return { pid, ppid, pgrp, state, startTicks };
}

export async function readProcInfo(pid: number): Promise<ProcInfo | null> {
  try {
    return parseProcStat(pid, await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null; // exited, or not Linux
  }
}

/**
 * How many /proc files are read at once. Reading every process's file in one `Promise.all` settles them
 * all in one burst of callbacks (about 10 ms of loop at 120 processes, growing with the process count);
 * slices keep each burst small, and the loop runs other work between them.
 */
const PROC_READS_AT_ONCE = 16;

/** `fn` over `items`, at most PROC_READS_AT_ONCE at a time, results in order. */
async function mapSliced<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += PROC_READS_AT_ONCE) {
    out.push(...(await Promise.all(items.slice(i, i + PROC_READS_AT_ONCE).map(fn))));
  }
  return out;
}

async function listProcs(): Promise<ProcInfo[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const infos = await mapSliced(pids, readProcInfo);
  return infos.filter((info): info is ProcInfo => info !== null);
}

async function hasMarker(pid: number, needle: Buffer): Promise<boolean> {
  try {
    const environ = await readFile(`/proc/${pid}/environ`);
    return environ.includes(needle);
  } catch {
    return false; // exited, or another user's process
  }
}

const live = (p: ProcInfo): boolean => p.state !== 'Z' && p.state !== 'X';

/**
 * The live processes of the command's tree (never zombies: an orphan re-parented to a PID 1 that does not
 * reap, common in containers, would otherwise count as alive forever).
 */
export async function findTree(id: TreeId): Promise<number[]> {
  if (!IS_LINUX) return id.pgid > 0 && groupAlive(id.pgid) ? [id.pgid] : [];
  const procs = await listProcs();
  const found = new Set<number>();
  const leader = procs.find((p) => p.pid === id.pgid);
  // The group id is ours if the leader is the process we started, or if the leader is gone but members
  // remain: Linux does not hand out a pid that is still in use as a group id.
  // pgid 0 means "not spawned yet": only the marker can identify such a command's processes.
  const groupIsOurs = id.pgid > 0 && (leader === undefined || id.startTicks === 0 || leader.startTicks === id.startTicks);
  const recent = procs.filter((p) => p.startTicks >= id.startTicks && p.pid !== process.pid);
  for (const p of recent) {
    if (groupIsOurs && p.pgrp === id.pgid) found.add(p.pid);
  }
  const needle = Buffer.from(`${MARKER_VAR}=${id.marker}\0`);
  const marked = await mapSliced(recent, async (p) => ((await hasMarker(p.pid, needle)) ? p.pid : null));
  for (const pid of marked) if (pid !== null) found.add(pid);
  // Descendants of anything found, to a fixed point.
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of recent) {
      if (!found.has(p.pid) && found.has(p.ppid)) {
        found.add(p.pid);
        grew = true;
      }
    }
  }
  return procs.filter((p) => found.has(p.pid) && live(p)).map((p) => p.pid);
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

function signalAll(id: TreeId, pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone, or not ours to signal
    }
  }
  if (!IS_LINUX && id.pgid > 0) {
    try {
      process.kill(-id.pgid, signal);
    } catch {
      // group already gone
    }
  }
}

/** SIGKILLs the tree until nothing of it is left (or `AFTER_KILL_MS` passed). Returns how many were found. */
export async function killTree(id: TreeId): Promise<number> {
  const deadline = Date.now() + AFTER_KILL_MS;
  let first = -1;
  for (;;) {
    const pids = await findTree(id);
    if (first < 0) first = pids.length;
    if (pids.length === 0 || Date.now() >= deadline) return first;
    // Stop first, so nothing forks new children between our scan and our kill.
    signalAll(id, pids, 'SIGSTOP');
    signalAll(id, pids, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * SIGTERM to the tree, then SIGKILL if anything is still running after `graceMs`. Resolves once the tree is
 * gone (or, after SIGKILL, once `AFTER_KILL_MS` has passed, which only happens for processes stuck in
 * uninterruptible sleep). Returns whether SIGKILL was needed.
 */
export async function terminateTree(id: TreeId, graceMs: number): Promise<{ killed: boolean }> {
  const signalled = new Set(await findTree(id));
  if (signalled.size === 0) return { killed: false };
  signalAll(id, [...signalled], 'SIGTERM');
  const deadline = Date.now() + graceMs;
  for (;;) {
    const left = await findTree(id);
    if (left.length === 0) return { killed: false };
    if (Date.now() >= deadline) break;
    // Processes started after the first signal get theirs too.
    const fresh = left.filter((pid) => !signalled.has(pid));
    for (const pid of fresh) signalled.add(pid);
    signalAll(id, fresh, 'SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  await killTree(id);
  return { killed: true };
}
