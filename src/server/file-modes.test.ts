import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function runTs(code: string): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

describe('owner-only files under a umask 022 process', () => {
  it('creates the data dir 0700 and tower.db, -wal and -shm 0600', () => {
    const base = mkdtempSync(join(tmpdir(), 'tower-modes-'));
    dirs.push(base);
    const dataDir = join(base, 'data');
    const r = runTs(`
      import { statSync, mkdirSync } from 'node:fs';
      process.umask(0o022);
      const { openSqliteStore } = await import('./src/store/sqlite/index.ts');
      const { testSessionRecord, testEntry } = await import('./src/store/testing/fixtures.ts');
      const store = openSqliteStore(${JSON.stringify(join(dataDir, 'tower.db'))});
      await store.createSession(testSessionRecord('s'));
      await store.commit([testEntry('s', 1)]);
      const mode = (p) => (statSync(p).mode & 0o777).toString(8);
      const p = ${JSON.stringify(join(dataDir, 'tower.db'))};
      console.log(JSON.stringify({ dir: mode(${JSON.stringify(dataDir)}), db: mode(p), wal: mode(p + '-wal'), shm: mode(p + '-shm') }));
      await store.close();
    `);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ dir: '700', db: '600', wal: '600', shm: '600' });
  });

  it('writes JSON logs to stderr, nothing to stdout', () => {
    const r = runTs(`
      const { createLogger } = await import('./src/core/logger.ts');
      createLogger({ level: 'info' }).info({ probe: 42 }, 'hello');
    `);
    expect(r.stdout).toBe('');
    expect(JSON.parse(r.stderr.trim())).toMatchObject({ probe: 42, msg: 'hello', svc: 'tower' });
  });
});
