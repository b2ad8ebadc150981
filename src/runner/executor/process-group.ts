import { readdir, readFile } from 'node:fs/promises';
import { errnoCode } from './fs-util.js';

/**
 * Ending a command's whole process tree. `bash` is spawned as the leader of its own process group, so its
 * children (pipelines, `&` jobs, subshells) share that group and one signal to `-pgid` reaches them all.
 * Processes that start their own session or group (`setsid`, job control) leave it and are not tracked.
 */

const POLL_MS = 25;
/** After SIGKILL, how long to wait for the kernel to tear the group down before giving up on watching it. */
const AFTER_KILL_MS = 1000;

/** Sends `signal` to every process in the group; a group that is already gone is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if (errnoCode(err) !== 'ESRCH') throw err;
  }
}

/**
 * True while some process of the group is still running. Zombies do not count: an orphaned child is
 * reparented to PID 1, and in containers PID 1 often never reaps it, so `kill(-pgid, 0)` would keep
 * reporting a group whose members are all dead. On Linux we therefore read `/proc`; elsewhere (macOS
 * runners, where launchd reaps) `kill(-pgid, 0)` is accurate enough.
 */
export async function groupIsAlive(pgid: number): Promise<boolean> {
  if (process.platform === 'linux') return linuxGroupIsAlive(pgid);
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

async function linuxGroupIsAlive(pgid: number): Promise<boolean> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  const states = await Promise.all(pids.map((pid) => readProcStat(pid)));
  return states.some((s) => s !== null && s.pgrp === pgid && s.state !== 'Z' && s.state !== 'X');
}

async function readProcStat(pid: string): Promise<{ state: string; pgrp: number } | null> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null; // exited between readdir and read
  }
  // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so parse after the last ")".
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const pgrp = Number(fields[2]);
  return state === undefined || Number.isNaN(pgrp) ? null : { state, pgrp };
}

/**
 * SIGTERM to the group, then SIGKILL if anything is still running after `graceMs`. Resolves once the group
 * is gone (or, after SIGKILL, once `AFTER_KILL_MS` has passed, which only happens for processes stuck in
 * uninterruptible sleep). Returns whether SIGKILL was needed.
 */
export async function terminateGroup(pgid: number, graceMs: number): Promise<{ killed: boolean }> {
  signalGroup(pgid, 'SIGTERM');
  if (await waitUntilGone(pgid, graceMs)) return { killed: false };
  signalGroup(pgid, 'SIGKILL');
  await waitUntilGone(pgid, AFTER_KILL_MS);
  return { killed: true };
}

async function waitUntilGone(pgid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (!(await groupIsAlive(pgid))) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
