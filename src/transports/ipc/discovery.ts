import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from '../../core/logger.js';
import { DEFAULT_REGISTRY_DIR, REGISTRY_DIR_ENV, type RegistryEntry } from '../../protocol/pando-bus.js';

/** The body of `<workdir>/.pando/ipc.lock`, as Pando writes it. */
export interface LockInfo {
  instance_id: string;
  pid: number;
  pub_port: number;
  rpc_port: number;
  started_at: string;
}

export interface HeldLock {
  primary: boolean;
  /** When not primary: what the primary wrote into the lock, if readable. */
  holder?: LockInfo;
  /** Writes this instance's info into the lock file (primary only). */
  write(info: LockInfo): void;
  /** Removes the lock file, then lets the lock go. Idempotent. */
  release(): void;
}

export const registryDir = (env: NodeJS.ProcessEnv = process.env): string => env[REGISTRY_DIR_ENV] || DEFAULT_REGISTRY_DIR;
export const lockPath = (workdir: string): string => path.join(workdir, '.pando', 'ipc.lock');

/** Writes the registry entry atomically (readers poll the folder and must never see half a file). */
export function writeRegistryEntry(dir: string, entry: RegistryEntry): string {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const file = path.join(dir, `${entry.instance_id}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(entry, null, 2)}\n`, { mode: 0o644 });
  renameSync(tmp, file);
  return file;
}

/** Removes entries whose process is gone (a SIGKILLed instance cannot remove its own), as Pando's readers do. */
export function pruneRegistry(dir: string): number {
  let pruned = 0;
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return 0;
  }
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      const pid = (JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown }).pid;
      if (typeof pid === 'number' && Number.isInteger(pid) && pid > 0 && !pidAlive(pid)) {
        removeFile(file);
        pruned += 1;
      }
    } catch {
      // unreadable or half-written by someone else: not ours to judge
    }
  }
  return pruned;
}

export function removeFile(file: string): void {
  rmSync(file, { force: true });
}

/**
 * Takes the exclusive flock Pando's primaries hold on `<workdir>/.pando/ipc.lock`. Node has no flock, so
 * a small `flock(1)` child takes it and keeps it for as long as this process lives (`tail --pid` ends when
 * we do, even on SIGKILL, and the kernel drops the lock with it). A Pando instance in the same directory
 * therefore sees Tower as the primary, and the other way round. Without `flock(1)` on the machine, the
 * lock is an exclusive-create file whose pid is checked for liveness.
 */
export async function acquireLock(workdir: string, logger: Logger): Promise<HeldLock> {
  const file = lockPath(workdir);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const child = spawn(
    'flock',
    ['--exclusive', '--nonblock', '--conflict-exit-code', '75', '--no-fork', file, 'sh', '-c', 'echo locked; exec tail --pid="$1" -f /dev/null', 'sh', String(process.pid)],
    // Not Tower's environment: the lock holder lives as long as Tower, and its /proc/<pid>/environ is
    // readable by every same-user process, tool commands included.
    { stdio: ['ignore', 'pipe', 'ignore'], detached: false, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } },
  );
  const outcome = await new Promise<'locked' | 'held' | 'unavailable'>((resolve) => {
    child.once('error', () => resolve('unavailable'));
    child.once('exit', (code) => resolve(code === 75 ? 'held' : 'unavailable'));
    createInterface({ input: child.stdout! }).once('line', (line) => resolve(line === 'locked' ? 'locked' : 'unavailable'));
  });
  if (outcome === 'locked') {
    child.unref();
    child.stdout?.destroy();
    return heldByChild(file, child);
  }
  if (outcome === 'held') return { primary: false, ...holderOf(file), write: () => undefined, release: () => undefined };
  logger.warn('bus: flock(1) unavailable; using an exclusive lock file checked by pid');
  return fileLock(file);
}

function heldByChild(file: string, child: ChildProcess): HeldLock {
  let released = false;
  return {
    primary: true,
    write: (info) => writeFileSync(file, `${JSON.stringify(info)}\n`, { mode: 0o600 }),
    release: () => {
      if (released) return;
      released = true;
      removeFile(file);
      child.kill('SIGTERM');
    },
  };
}

function holderOf(file: string): { holder?: LockInfo } {
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
    return typeof info.pid === 'number' ? { holder: info } : {};
  } catch {
    return {};
  }
}

function fileLock(file: string): HeldLock {
  const { holder } = holderOf(file);
  if (holder && holder.pid !== process.pid && pidAlive(holder.pid)) return { primary: false, holder, write: () => undefined, release: () => undefined };
  let released = false;
  return {
    primary: true,
    write: (info) => writeFileSync(file, `${JSON.stringify(info)}\n`, { mode: 0o600 }),
    release: () => {
      if (released) return;
      released = true;
      removeFile(file);
    },
  };
}

/** True while `pid` runs; a zombie counts as dead (PID 1 in some containers never reaps). */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return signalAlive(pid);
    return process.platform === 'linux' ? false : signalAlive(pid);
  }
}

function signalAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
