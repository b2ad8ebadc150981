import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TowerClient } from '../../src/client/index.js';
import { rng } from '../../src/core/event-log/test-helpers.js';
import { startFakeModelServer } from '../../src/fake-models/index.js';
import type { StoredEvent } from '../../src/protocol/events.js';
import { readAllEvents } from '../../src/core/sessions/transfer.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { tempDir } from '../support/harness.js';
import { runToEnd, spawnCli, spawnTower, type TowerProcess } from '../support/process.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** Every turn reads user_message(s), stream_started, …, stream_stopped; nothing turn-like outside one. */
function turnShapeProblems(events: StoredEvent[]): string[] {
  const problems: string[] = [];
  let state: 'idle' | 'opening' | 'running' = 'idle';
  events.forEach((e, i) => {
    if (e.seq !== i + 1) problems.push(`seq ${e.seq} at position ${i}`);
    const where = `seq ${e.seq} (${e.type}) while ${state}`;
    if (e.type === 'user_message' && e.data.steered !== true) {
      if (state === 'running') problems.push(where);
      state = 'opening';
    } else if (e.type === 'stream_started') {
      if (state !== 'opening') problems.push(where);
      state = 'running';
    } else if (e.type === 'stream_stopped') {
      if (state !== 'running') problems.push(where);
      state = 'idle';
    } else if (state === 'opening') {
      problems.push(where);
    } else if (state === 'idle' && ['agent_choice', 'tool_call', 'tool_call_response', 'token_usage'].includes(e.type)) {
      problems.push(where);
    }
  });
  if (state !== 'idle') problems.push(`log ends ${state}`);
  return problems;
}

describe('kill -9 at random moments', () => {
  it('leaves every turn of every log well formed after recovery (seeded, 8 kills)', async () => {
    const fake = await startFakeModelServer({
      format: 'openai',
      script: (req) =>
        req.index % 3 === 1
          ? { text: 'Listing. ', tool_calls: [{ name: 'list', args: { path: '.' } }], tokensPerSecond: 500 }
          : { text: 'word '.repeat(30), tokensPerSecond: 500 },
    });
    const dataDir = tempDir('crash-data');
    const workDir = tempDir('crash-work');
    cleanups.push(() => fake.close());
    cleanups.push(() => {
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(workDir, { recursive: true, force: true });
    });
    const random = rng(7);
    const sessions: string[] = [];
    for (let round = 0; round < 8; round++) {
      const tower: TowerProcess = await spawnTower({ fake, dataDir, workDir });
      cleanups.push(async () => {
        if (tower.proc.exitCode === null) tower.proc.kill('SIGKILL');
        await tower.exited;
      });
      const client = new TowerClient({ url: tower.url });
      if (sessions.length < 3) sessions.push((await client.createSession()).id);
      // Sends in flight on several sessions, no awaiting the answers: the kill lands wherever it lands.
      const sends = sessions.map((id, i) => client.send(id, `round ${round} session ${i}`).catch(() => undefined));
      const creates = [client.createSession().catch(() => undefined)];
      const waitMs = Math.floor(random() * 120);
      await new Promise((r) => setTimeout(r, waitMs));
      tower.proc.kill('SIGKILL');
      await tower.exited;
      await Promise.all([...sends, ...creates]);
    }
    // One last start runs recovery on what the last kill left; a graceful stop then ends it.
    const last = await spawnTower({ fake, dataDir, workDir });
    last.proc.kill('SIGTERM');
    await last.exited;

    const store = openSqliteStore(path.join(dataDir, 'tower.db'));
    try {
      const ids = await store.listSessionIds();
      expect(ids.length).toBeGreaterThanOrEqual(3);
      for (const id of ids) {
        const events = await readAllEvents(store, id);
        // Atomic create: no session without its session_created event.
        expect(events[0]?.type, `session ${id}`).toBe('session_created');
        expect(turnShapeProblems(events), `session ${id}`).toEqual([]);
        expect(await store.getState(id, 'active_turn')).toBeUndefined();
      }
    } finally {
      await store.close();
    }
  }, 120_000);
});

describe('one Tower per data dir', () => {
  it('a second tower serve on the same data dir refuses, naming the first one pid, and writes nothing', async () => {
    const fake = await startFakeModelServer({ format: 'openai', script: [{ text: 'slow '.repeat(200), tokensPerSecond: 20 }] });
    const dataDir = tempDir('lock-data');
    const workDir = tempDir('lock-work');
    cleanups.push(() => fake.close());
    cleanups.push(() => {
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(workDir, { recursive: true, force: true });
    });
    const first = await spawnTower({ fake, dataDir, workDir });
    cleanups.push(async () => {
      if (first.proc.exitCode === null) first.proc.kill('SIGKILL');
      await first.exited;
    });
    const client = new TowerClient({ url: first.url });
    const session = await client.createSession();
    await client.send(session.id, 'take your time');
    const before = (await client.snapshot(session.id)).last_event_seq;

    const second = await runToEnd(
      spawnCli(['serve', '--port', '0', '--data-dir', dataDir, '--config', path.join(dataDir, 'test-config.json')], {
        TOWER_WORKING_DIR: workDir,
      }),
    );
    expect(second.code).not.toBe(0);
    expect(second.stdout + second.stderr).toContain(`pid ${first.proc.pid}`);
    const events: string[] = [];
    for await (const e of client.events(session.id, { since: 0 })) {
      events.push(e.type);
      if (e.type === 'stream_stopped' || events.length >= before) break;
    }
    // No recovery ran on the live turn: nothing was closed as server_restart behind its back.
    const snap = await client.snapshot(session.id);
    expect(snap.streaming).toBe(true);
    expect(events).not.toContain('stream_stopped');
  }, 60_000);
});
