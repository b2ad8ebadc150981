import { afterEach, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/program.js';
import { capture, type Captured } from '../../src/cli/testing/capture.js';
import { startHubTower, type HubTower } from '../support/hub.js';
import { waitFor } from '../support/wait.js';

let t: HubTower | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function tower(args: string[], c: Captured = capture({ env: { USER: 'ana' } })): Promise<{ code: number; out: string; err: string }> {
  const code = await run(['--url', t!.url, ...args], c.io);
  return { code, out: c.stdout(), err: c.stderr() };
}

describe('tower threads and tower inbox', () => {
  it('posts, lists, shows and watches threads', async () => {
    t = await startHubTower();
    expect((await tower(['threads', 'post', '--create', 'plan', 'first', 'step', '--kind', 'directive'])).out).toBe('posted #1 to plan\n');
    await tower(['threads', 'post', 'plan', 'second']);
    expect((await tower(['threads', 'ls'])).out).toMatch(/^plan\s+active\s+2\s+$/m);
    const shown = await tower(['threads', 'show', 'plan']);
    expect(shown.out).toContain('#1 human:ana directive  first step');
    expect(shown.out).toContain('#2 human:ana status  second');
    const json = JSON.parse((await tower(['--json', 'threads', 'show', 'plan', '--after', '1'])).out);
    expect(json.messages.map((m: { content: string }) => m.content)).toEqual(['second']);
    expect(await tower(['threads', 'post', 'plan', 'x', '--kind', 'rant'])).toMatchObject({ code: 1, err: expect.stringContaining('--kind must be one of') });
    expect(await tower(['threads', 'show', 'nope'])).toMatchObject({ code: 1 });

    const watcher = capture();
    const watching = tower(['threads', 'watch', 'plan', '--from-seq', '1'], watcher);
    await waitFor(() => watcher.stdout().includes('second'));
    await tower(['threads', 'post', 'plan', 'third']);
    await waitFor(() => watcher.stdout().includes('third'));
    watcher.interrupt();
    expect((await watching).code).toBe(0);
    expect(watcher.stdout()).not.toContain('first step');
  });

  it('lists, reads and replies to inbox messages', async () => {
    t = await startHubTower();
    const sent = await t.hub.messaging.sendInbox({ from_agent: 'bot', to_inbox: 'ana', title: 'please review', payload: 'PR 7', message_type: 'request' });
    expect((await tower(['inbox', 'ls', 'ana'])).out).toContain(`${sent.id}  unread    request       from bot  please review`);
    const read = await tower(['inbox', 'read', 'ana', sent.id]);
    expect(read.out).toContain('PR 7');
    expect((await tower(['inbox', 'reply', 'ana', sent.id, 'looks', 'good'])).out).toBe(`replied to bot (correlation ${sent.message_id})\n`);
    expect((await tower(['inbox', 'ls', 'bot'])).out).toContain('response');
    expect(await tower(['inbox', 'ls', 'ana', '--status', 'bogus'])).toMatchObject({ code: 1, err: expect.stringContaining('--status must be one of') });
    expect((await tower(['inbox', 'read', 'ana', 'nope'])).code).toBe(1);
  });
});
