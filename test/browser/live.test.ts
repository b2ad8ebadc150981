import { once } from 'node:events';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestTower } from '../support/harness.js';
import { startHubTower } from '../support/hub.js';
import { startRunnerTower } from '../support/runners.js';
import { openPage, sharedBrowser, shot } from './browser.js';
import { dashboardScript, GREETING, STORY } from './dashboard-script.js';

/**
 * The dashboard's live updates in a real browser: over the hub (runners, threads, sessions list,
 * transcript, telemetry), the fallback to SSE and polling when the hub is off, and a hub reconnect
 * mid-stream. Every wait is on DOM state or on the server; there are no sleeps.
 */
const browser = sharedBrowser();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const lastAgentText = (page: Page) => page.locator('[data-testid=agent-text]').last();

async function send(page: Page, text: string): Promise<void> {
  const box = page.getByLabel('Message', { exact: true });
  await box.fill(text);
  await box.press('Enter');
}

async function post(url: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status, url).toBeLessThan(300);
  return (await res.json()) as Record<string, unknown>;
}

/** Records every text the element shows, so a short-lived state ("reconnecting…") cannot be missed. */
async function recordTexts(page: Page, testId: string): Promise<() => Promise<string[]>> {
  await page.evaluate(`(() => {
    const el = document.querySelector('[data-testid=${testId}]');
    window.__seen = [el.textContent];
    new MutationObserver(() => window.__seen.push(el.textContent)).observe(el, { childList: true, characterData: true, subtree: true });
  })()`);
  return async () => (await page.evaluate('window.__seen')) as string[];
}

describe('dashboard live over the hub', () => {
  it('a runner appears, draws its heartbeat sparklines, and goes offline when its process is killed', async () => {
    const t = await startRunnerTower();
    cleanups.push(() => t.close());
    const { page, problems } = await openPage(browser());
    cleanups.push(() => page.context().close());
    // Token reads: on opening and after each change, never on a timer.
    let tokenReads = 0;
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/api/runners/tokens' && r.method() === 'GET') tokenReads++;
    });
    await page.goto(`${t.tower.url}/runners`);
    await page.getByTestId('runners').and(page.locator('[data-transport=hub]')).waitFor({ state: 'attached' });
    await page.getByTestId('connection').and(page.locator('[data-hub=open]')).waitFor();
    // The token is made on the page: shown once, listed at once, without its secret.
    await page.getByLabel('Token name').fill('builder');
    await page.getByLabel('Token labels').fill('linux, gpu');
    await page.getByLabel('Token labels').press('Enter');
    const secret = (await page.getByTestId('new-token').textContent()) ?? '';
    expect(secret.length).toBeGreaterThan(20);
    const tokenRow = page.locator('[data-testid=runner-token][data-token-name=builder]');
    await tokenRow.getByRole('button', { name: 'Revoke' }).waitFor();
    expect(await tokenRow.textContent()).not.toContain(secret);
    expect(await tokenRow.locator('.badge').allTextContents()).toEqual(['linux', 'gpu']);
    expect(tokenReads).toBe(2);
    const child = t.runner(secret, 'builder', path.join(t.base, 'ws'));
    const card = page.locator('li[data-runner=builder]');
    await card.and(page.locator('[data-online=true]')).waitFor();
    await card.getByText('online', { exact: true }).waitFor();
    await card.getByRole('img', { name: 'builder: CPU / memory / disk %' }).waitFor();
    await card.getByText(/^Environment: /).waitFor();
    expect(await card.locator('.badge').allTextContents()).toEqual(['linux', 'gpu']);
    await shot(page, 'runners-online');
    // A session made on the page with runner labels: its bash call runs on the runner, and the line says which.
    await page.goto(t.tower.url);
    await page.getByRole('button', { name: 'New session' }).click();
    await page.getByLabel('Runner labels').fill('linux');
    await page.getByLabel('Permissions').selectOption('autonomous');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByTestId('live-state').filter({ hasText: 'live' }).waitFor();
    const sessionId = new URL(page.url()).pathname.split('/').pop() ?? '';
    expect((await t.client.getSession(sessionId)).runner).toMatchObject({ labels: ['linux'] });
    await send(page, JSON.stringify({ tool: 'bash', args: { command: 'echo from-the-runner' } }));
    const tool = page.locator('[data-kind=tool]').last();
    await tool.locator('.badge').filter({ hasText: 'on builder' }).waitFor();
    await tool.filter({ hasText: 'done' }).waitFor();
    // Keyboard: the collapsed result opens from its summary.
    await tool.locator('summary', { hasText: 'Result' }).focus();
    await page.keyboard.press('Enter');
    await tool.locator('details', { hasText: 'Result' }).locator('pre').filter({ hasText: 'from-the-runner' }).waitFor();
    // The runner's bash output streamed live into the line, and ended up in the result.
    expect(await tool.getByLabel('Live output').textContent()).toBe('from-the-runner\n');
    await shot(page, 'session-tool-on-runner');
    await page.goto(`${t.tower.url}/runners`);
    await card.and(page.locator('[data-online=true]')).waitFor();
    child.kill('SIGKILL');
    await once(child, 'exit');
    await card.and(page.locator('[data-online=false]')).waitFor();
    await card.getByText('offline', { exact: true }).waitFor();
    await shot(page, 'runners-offline');
    // Revoked from the keyboard: the row says so; a reload no longer shows the secret.
    await tokenRow.getByRole('button', { name: 'Revoke' }).focus();
    await page.keyboard.press('Enter');
    await tokenRow.getByText('revoked', { exact: true }).waitFor();
    await page.reload();
    await tokenRow.getByText('revoked', { exact: true }).waitFor();
    expect(await page.getByTestId('new-token').count()).toBe(0);
    expect(problems).toEqual([]);
  }, 120_000);

  it('thread messages, status changes and a new thread arrive live; inbox handoffs are chained by correlation id', async () => {
    const t = await startTestTower({ script: dashboardScript });
    cleanups.push(() => t.close());
    await post(`${t.url}/api/threads`, { id: 'deploy', title: 'Deploy plan' });
    const { page, problems } = await openPage(browser());
    cleanups.push(() => page.context().close());
    await page.goto(`${t.url}/threads`);
    await page.getByTestId('threads').and(page.locator('[data-transport=hub]')).waitFor();
    await page.getByRole('heading', { name: 'Deploy plan' }).waitFor();
    await page.getByTestId('thread-live').filter({ hasText: 'live' }).waitFor();
    await post(`${t.url}/api/threads/deploy/messages`, { from_type: 'agent', from_id: 'planner', kind: 'proposal', subject: 'Step one', content: 'Build the image first.' });
    const first = page.locator('[data-testid=thread-message][data-seq="1"]');
    await first.filter({ hasText: 'Build the image first.' }).waitFor();
    await post(`${t.url}/api/threads/deploy/messages`, { from_type: 'agent', from_id: 'builder', kind: 'result', content: 'Image built.' });
    await page.locator('[data-testid=thread-message][data-seq="2"]').filter({ hasText: 'Image built.' }).waitFor();
    await post(`${t.url}/api/threads/deploy/status`, { status: 'resolved' });
    await page.locator('[data-thread=deploy] [data-testid=thread-status]').filter({ hasText: 'resolved' }).waitFor();
    // A thread created while the page is open shows up with its title before any message, then grows.
    await post(`${t.url}/api/threads`, { id: 'incident', title: 'Incident 42' });
    await page.locator('[data-thread=incident]').filter({ hasText: 'Incident 42' }).waitFor();
    await post(`${t.url}/api/threads/incident/messages`, { from_type: 'agent', from_id: 'oncall', content: 'Paging.' });
    // A request to the human, handed off between agents, answered: one chain.
    const request = await post(`${t.url}/api/inbox/human`, { from_agent: 'planner', message_type: 'request', title: 'Approve the deploy?', correlation_id: 'corr-deploy-1' });
    await post(`${t.url}/api/inbox/reviewer`, { from_agent: 'planner', message_type: 'handoff', title: 'Please review', correlation_id: 'corr-deploy-1' });
    const chain = page.locator('[data-correlation=corr-deploy-1]');
    await chain.getByText('chain corr-deploy-1: 2 messages').waitFor();
    expect(await chain.getByTestId('inbox-message').allTextContents()).toEqual([expect.stringContaining('Approve the deploy?'), expect.stringContaining('Please review')]);
    expect(request.correlation_id).toBe('corr-deploy-1');
    expect(await page.locator('[data-testid=thread-message]').count()).toBe(2);
    await shot(page, 'threads-live');
    expect(problems).toEqual([]);
  }, 120_000);

  it('the sessions list, a session and the telemetry page follow the hub; the list changes without polling', async () => {
    const t = await startTestTower({ script: dashboardScript });
    cleanups.push(() => t.close());
    const { page, problems } = await openPage(browser());
    cleanups.push(() => page.context().close());
    await page.goto(t.url);
    await page.getByTestId('sessions').and(page.locator('[data-transport=hub]')).waitFor();
    await page.getByTestId('connection').and(page.locator('[data-transport=hub][data-hub=open]')).waitFor();
    // Count the list reads from here on: changes must arrive as hub frames, not by reading the list again.
    let listReads = 0;
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/api/sessions' && r.method() === 'GET') listReads++;
    });
    const s = await t.client.createSession({ title: 'Made elsewhere' });
    const row = page.locator(`tr[data-session-id="${s.id}"]`);
    await row.filter({ hasText: 'Made elsewhere' }).waitFor();
    await t.client.updateSession(s.id, { title: 'Renamed elsewhere' });
    await row.filter({ hasText: 'Renamed elsewhere' }).waitFor();
    await t.tower.commands.execute('sessions.send', { session_id: s.id, content: 'hello' });
    await row.filter({ hasText: '140' }).waitFor();
    await row.locator('.status').filter({ hasText: 'idle' }).waitFor();
    const doomed = await t.client.createSession({ title: 'Doomed' });
    await page.locator(`tr[data-session-id="${doomed.id}"]`).waitFor();
    await t.client.deleteSession(doomed.id);
    await page.locator(`tr[data-session-id="${doomed.id}"]`).waitFor({ state: 'detached' });
    expect(listReads).toBe(0);
    await shot(page, 'sessions-live');

    await row.getByRole('link').click();
    const live = page.getByTestId('live-state');
    await live.and(page.locator('[data-transport=hub]')).filter({ hasText: 'live' }).waitFor();
    await lastAgentText(page).filter({ hasText: GREETING }).waitFor();
    await send(page, 'story');
    await lastAgentText(page).filter({ hasText: 'THE-END' }).waitFor();
    await page.getByTestId('session-status').filter({ hasText: 'idle' }).waitFor();
    await shot(page, 'session-hub');

    await page.getByRole('link', { name: 'Telemetry' }).click();
    await page.getByTestId('total-cost').and(page.locator('[data-transport=hub]')).waitFor();
    await page.locator(`[data-testid=telemetry-sessions] tr[data-session-id="${s.id}"]`).filter({ hasText: 'Renamed elsewhere' }).waitFor();
    await page.getByRole('img', { name: 'Cost over time, all sessions' }).waitFor();
    await shot(page, 'telemetry-live');
    expect(problems).toEqual([]);
  }, 120_000);
});

describe('dashboard without the hub', () => {
  it('falls back to SSE for the session and to polling for the lists, and says so', async () => {
    const t = await startTestTower({ script: dashboardScript, transports: [] });
    cleanups.push(() => t.close());
    const s = await t.client.createSession({ title: 'No hub here' });
    const { page, problems } = await openPage(browser());
    cleanups.push(() => page.context().close());
    await page.goto(`${t.url}/sessions/${s.id}`);
    await page.getByTestId('live-state').and(page.locator('[data-transport=sse]')).filter({ hasText: 'live' }).waitFor();
    await page.getByTestId('connection').and(page.locator('[data-transport=sse][data-hub=refused]')).filter({ hasText: 'SSE' }).waitFor();
    await send(page, 'hello');
    await lastAgentText(page).filter({ hasText: 'omega' }).waitFor();
    expect(await page.locator('[data-testid=agent-text]').allTextContents()).toEqual([GREETING]);
    await shot(page, 'session-sse-fallback');
    await page.getByRole('link', { name: 'Sessions' }).click();
    await page.getByTestId('sessions').and(page.locator('[data-transport=poll]')).waitFor();
    // Polled: a session made elsewhere still shows up.
    await t.client.createSession({ title: 'Polled in' });
    await page.locator('tr[data-session-id]').filter({ hasText: 'Polled in' }).waitFor();
    await shot(page, 'sessions-polling');
    expect(problems).toEqual([]);
  }, 120_000);
});

describe('dashboard hub reconnect', () => {
  it('the hub connection cut mid-stream: reconnecting shown, then resumed by from_seq with no line doubled or lost', async () => {
    const t = await startHubTower({ script: dashboardScript });
    cleanups.push(() => t.close());
    const s = await t.tower.commands.execute('sessions.create', { title: 'Cut me' });
    const { page, problems } = await openPage(browser());
    cleanups.push(() => page.context().close());
    await page.goto(`${t.url}/sessions/${s.id}`);
    await page.getByTestId('live-state').and(page.locator('[data-transport=hub]')).filter({ hasText: 'live' }).waitFor();
    await send(page, 'hello');
    await lastAgentText(page).filter({ hasText: 'omega' }).waitFor();
    const seen = await recordTexts(page, 'live-state');
    await send(page, 'story');
    await lastAgentText(page).filter({ hasText: 'word1' }).waitFor();
    const before = t.hub.hub.connections.size;
    expect(before).toBeGreaterThan(0);
    for (const c of [...t.hub.hub.connections]) c.ws.terminate();
    await lastAgentText(page).filter({ hasText: 'THE-END' }).waitFor();
    await page.getByTestId('session-status').filter({ hasText: 'idle' }).waitFor();
    expect(await seen()).toContain('reconnecting…');
    expect((await seen()).at(-1)).toBe('live');
    expect(await page.locator('[data-testid=agent-text]').allTextContents()).toEqual([GREETING, STORY]);
    expect(await page.locator('[data-kind=user]').allTextContents()).toEqual([expect.stringContaining('hello'), expect.stringContaining('story')]);
    const keys = await page.locator('[data-key]').evaluateAll((els) => els.map((e) => e.getAttribute('data-key')));
    expect(new Set(keys).size).toBe(keys.length);
    // A reload after it: the same transcript, rebuilt from the hub's catch-up batches.
    await page.reload();
    await lastAgentText(page).filter({ hasText: 'THE-END' }).waitFor();
    expect(await page.locator('[data-testid=agent-text]').allTextContents()).toEqual([GREETING, STORY]);
    expect(problems).toEqual([]);
  }, 120_000);
});
