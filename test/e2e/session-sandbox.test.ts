import { existsSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestTower, type TestTower } from '../support/harness.js';

let t: TestTower | undefined;
const outside: string[] = [];
afterEach(async () => {
  await t?.close();
  t = undefined;
  for (const f of outside.splice(0)) rmSync(f, { force: true });
});

/** A file in the machine's /tmp: bubblewrap gives bash a private /tmp, so only an unsandboxed bash makes it. */
function hostTmpFile(): string {
  const file = path.join(os.tmpdir(), `tower-sandbox-probe-${process.pid}-${Math.random().toString(36).slice(2)}`);
  outside.push(file);
  return file;
}

async function runBash(tt: TestTower, sessionId: string): Promise<void> {
  for await (const e of tt.client.sendAndFollow(sessionId, 'touch the probe')) {
    if (e.type === 'stream_stopped') expect(e.reason).toBe('normal');
  }
}

describe('per-session sandbox settings', () => {
  it('a session may opt out of the server sandbox at create, and PATCH changes it for the next tool call', async () => {
    const probes = [hostTmpFile(), hostTmpFile(), hostTmpFile()];
    const script = probes.flatMap((p) => [
      { text: 'Touching.', tool_calls: [{ name: 'bash', args: { command: `touch ${p}` } }] },
      { text: 'Done.' },
    ]);
    t = await startTestTower({ script, sandbox: 'bwrap' });
    const autonomous = { permissions: { policy: 'autonomous' as const } };

    const sandboxed = await t.client.createSession(autonomous);
    expect(sandboxed.sandbox).toBeUndefined();
    await runBash(t, sandboxed.id);
    expect(existsSync(probes[0] as string)).toBe(false);

    const open = await t.client.createSession({ ...autonomous, sandbox: 'none' });
    expect(open.sandbox).toBe('none');
    await runBash(t, open.id);
    expect(existsSync(probes[1] as string)).toBe(true);

    const patched = await t.client.updateSession(sandboxed.id, { sandbox: 'none', network: true });
    expect(patched).toMatchObject({ sandbox: 'none', network: true });
    await runBash(t, sandboxed.id);
    expect(existsSync(probes[2] as string)).toBe(true);

    // The settings are stored: they survive a restart and are in the log.
    t = await t.restart();
    expect(await t.client.getSession(sandboxed.id)).toMatchObject({ sandbox: 'none', network: true });
    const snap = await t.client.snapshot(open.id);
    expect(snap.session.sandbox).toBe('none');
  });

  it('refuses an unknown sandbox mode and changes nothing', async () => {
    t = await startTestTower({});
    const res = await fetch(`${t.url}/api/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sandbox: 'docker' }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'invalid_request' });
    expect((await t.client.listSessions()).items).toEqual([]);
  });
});
