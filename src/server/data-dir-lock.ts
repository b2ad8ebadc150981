import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { TowerError } from '../protocol/errors.js';

/** Who holds a data dir: enough to tell a live holder from a dead one whose pid was reused. */
interface LockOwner {
  pid: number;
  /** Process start time from /proc/<pid>/stat (clock ticks since boot), where the OS has it. */
  start?: string;
}

export interface DataDirLock {
  readonly file: string;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void;
}

const LOCK_NAME = 'tower.lock';

/**
 * One Tower per data dir. The lock file is created with O_EXCL and names its holder (pid and start
 * time). A lock whose holder is gone (no such pid, or a pid reused by a process that started at another
 * time) is stale and taken over; a live holder gets a `conflict` naming its pid. Taken before the store
 * opens, so a second server can never run recovery on a log another server is writing.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const file = path.join(dataDir, LOCK_NAME);
  const me: LockOwner = { pid: process.pid, ...startOf(process.pid) };
  for (let attempt = 0; attempt < 5; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readOwner(file);
      if (holder && isAlive(holder)) {
        throw new TowerError(
          'conflict',
          `data dir ${dataDir} is in use by another Tower (pid ${holder.pid}); stop it or use another --data-dir`,
          { pid: holder.pid },
        );
      }
      // Stale (or half-written by a process that died at once): remove and race for it again.
      try {
        unlinkSync(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      continue;
    }
    try {
      writeSync(fd, JSON.stringify(me));
    } finally {
      closeSync(fd);
    }
    let released = false;
    return {
      file,
      release: () => {
        if (released) return;
        released = true;
        if (readOwner(file)?.pid === me.pid) {
          try {
            unlinkSync(file);
          } catch {
            // Already gone: nothing to release.
          }
        }
      },
    };
  }
  throw new TowerError('conflict', `could not take the lock on data dir ${dataDir}: it keeps changing hands`);
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (typeof value !== 'object' || value === null) return undefined;
    const { pid, start } = value as { pid?: unknown; start?: unknown };
    if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return undefined;
    return typeof start === 'string' ? { pid, start } : { pid };
  } catch {
    return undefined;
  }
}

function isAlive(owner: LockOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    // EPERM: the pid exists but belongs to someone else; still a live process.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (owner.start === undefined) return true;
  const now = startOf(owner.pid).start;
  return now === undefined || now === owner.start;
}

/** Field 22 of /proc/<pid>/stat (after the parenthesised command, which may contain spaces). */
function startOf(pid: number): { start?: string } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = fields[19];
    return start ? { start } : {};
  } catch {
    return {};
  }
}
