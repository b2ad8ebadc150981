import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import type { StoredEvent } from '../../protocol/events.js';
import { resolveConfig } from '../../server/config.js';
import { startTower, type Tower } from '../../server/tower.js';
import type { SessionRecord } from '../../store/types.js';
import { testSessionRecord } from '../../store/testing/fixtures.js';
import { BusPublisher } from './publisher.js';
import { RowBatch } from './row-batch.js';
import { TopicDeriver } from './topics.js';

describe('RowBatch', () => {
  it('reads the ids asked for in one job together; a missing row is undefined; a failed read fails them all', async () => {
    const calls: string[][] = [];
    let fail = false;
    const batch = new RowBatch({
      getSessions: async (ids) => {
        calls.push([...ids]);
        if (fail) throw new Error('store down');
        return ids.filter((id) => id !== 'ghost').map((id) => testSessionRecord(id));
      },
    });
    const first = await Promise.all([batch.get('a'), batch.get('b'), batch.get('ghost'), batch.get('a')]);
    expect(calls).toEqual([['a', 'b', 'ghost']]);
    expect(first.map((r) => r?.id)).toEqual(['a', 'b', undefined, 'a']);
    fail = true;
    const failed = await Promise.allSettled([batch.get('c'), batch.get('d')]);
    expect(calls).toHaveLength(2);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});

describe('turn ends of many sessions, with a subscriber of everything', () => {
  let tower: Tower | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await tower?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    tower = dir = undefined;
  });

  it('cost one batch read of rows per loop turn, not one read per session', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tower-row-batch-'));
    const config = resolveConfig({ host: '127.0.0.1', port: 0, dataDir: path.join(dir, 'data'), workingDir: dir, demo: true }, {});
    tower = await startTower(config, { env: {}, logger: silentLogger, transports: [] });
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) ids.push((await tower.commands.execute('sessions.create', { title: `s ${i}` })).id);
    const store = tower.store;
    const getSessions = store.getSessions.bind(store);
    const reads: number[] = [];
    vi.spyOn(store, 'getSessions').mockImplementation((wanted): Promise<SessionRecord[]> => {
      reads.push(wanted.length);
      return getSessions(wanted);
    });
    const getOne = vi.spyOn(store, 'getSession');
    const sent: string[] = [];
    const publisher = new BusPublisher({ closed: false, send: async (f) => void sent.push(f.slice(0, f.indexOf('\0'))) }, 'test', silentLogger);
    const state = { instanceId: 'test', startedAt: new Date(), version: '0', workdir: dir, endpoints: { pub: '', rpc: '' }, activeSessionId: undefined };
    const topics = new TopicDeriver(tower.commands, store, publisher, state, silentLogger);
    await topics.prime();
    // The events as the tap hands them (not committed: the rows stay as they are, so nothing but llm.end is news).
    let seq = 100;
    const end = (id: string): StoredEvent[] => [
      { session_id: id, seq: seq++, timestamp: new Date().toISOString(), type: 'token_usage', data: { model: 'm', input_tokens: 1, output_tokens: 2 } },
      { session_id: id, seq: seq++, timestamp: new Date().toISOString(), type: 'stream_stopped', data: { turn_id: 't', reason: 'end_turn' } },
    ] as StoredEvent[];
    for (const id of ids) topics.onBatch(end(id));
    await topics.settled();
    // 64 refreshes start per loop turn (RefreshPacer): 100 sessions are two turns, two reads.
    expect(reads).toEqual([64, 36]);
    expect(getOne).not.toHaveBeenCalled();
    topics.close();
  });
});
