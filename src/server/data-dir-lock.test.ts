import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isTowerError } from '../protocol/errors.js';
import { lockDataDir } from './data-dir-lock.js';

const dirs: string[] = [];
const dir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'tower-lock-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A pid that existed and is gone now. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('lockDataDir', () => {
  it('refuses a second holder with conflict naming the holder pid, and frees on release', () => {
    const d = dir();
    const lock = lockDataDir(d);
    let err: unknown;
    try {
      lockDataDir(d);
    } catch (e) {
      err = e;
    }
    expect(isTowerError(err) && err.code).toBe('conflict');
    expect(String((err as Error).message)).toContain(`pid ${process.pid}`);
    lock.release();
    expect(existsSync(lock.file)).toBe(false);
    lockDataDir(d).release();
  });

  it('takes over a stale lock left by a dead process', () => {
    const d = dir();
    writeFileSync(join(d, 'tower.lock'), JSON.stringify({ pid: deadPid() }));
    const lock = lockDataDir(d);
    expect(JSON.parse(readFileSync(lock.file, 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('takes over a lock whose pid is alive but started at another time (a reused pid)', () => {
    const d = dir();
    writeFileSync(join(d, 'tower.lock'), JSON.stringify({ pid: process.pid, start: '1' }));
    if (!existsSync(`/proc/${process.pid}/stat`)) return; // start times are a Linux refinement
    const lock = lockDataDir(d);
    expect(JSON.parse(readFileSync(lock.file, 'utf8')).start).not.toBe('1');
    lock.release();
  });

  it('takes over a lock file with junk in it, and does not remove a lock it no longer holds', () => {
    const d = dir();
    writeFileSync(join(d, 'tower.lock'), 'not json');
    const lock = lockDataDir(d);
    writeFileSync(lock.file, JSON.stringify({ pid: 1 }));
    lock.release();
    expect(existsSync(lock.file)).toBe(true);
  });
});
