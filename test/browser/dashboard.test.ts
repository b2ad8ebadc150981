import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestTower, type TestTower } from '../support/harness.js';
import { openPage, sharedBrowser, shot, type InPage } from './browser.js';
import { dashboardScript, GREETING, STORY } from './dashboard-script.js';

/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core) against a real Tower on
 * port 0 with the scripted fake model. Every wait is on DOM state; there are no sleeps.
 */
const browser = sharedBrowser();
let t: TestTower | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const lastAgentText = (page: Page) => page.locator('[data-testid=agent-text]').last();

/** Sends a message from the composer with the keyboard (Enter), as a person would. */
async function send(page: Page, text: string): Promise<void> {
  const box = page.getByLabel('Message', { exact: true });
  await box.fill(text);
  await box.press('Enter');
}

async function newSession(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.getByRole('button', { name: 'New session' }).click();
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByTestId('live-state').filter({ hasText: 'live' }).waitFor();
}

describe('dashboard sign-in', () => {
  it('asks for the token, refuses a wrong one with a clear message, accepts the right one and keeps it', async () => {
    t = await startTestTower({ token: 'right-token', script: dashboardScript });
    const { page, problems } = await openPage(browser());
    await page.goto(t.url);
    await page.getByRole('heading', { name: 'Sign in to Tower' }).waitFor();
    await shot(page, 'signin');
    await page.getByLabel('Token').fill('wrong-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'refused' }).waitFor();
    await shot(page, 'signin-wrong');
    await page.getByLabel('Token').fill('right-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Sessions' }).waitFor();
    // The hub took the same token in its first frame (a browser cannot set a WebSocket header).
    await page.getByTestId('connection').and(page.locator('[data-transport=hub][data-hub=open]')).waitFor();
    // Kept in local storage: a reload opens straight away.
    await page.reload();
    await page.getByRole('heading', { name: 'Sessions' }).waitFor();
    expect(await page.evaluate("localStorage.getItem('tower.token')")).toBe('right-token');
    expect(problems).toEqual([]);
    await page.context().close();
  }, 120_000);

  it('takes the token from the URL fragment and drops it from the address bar', async () => {
    t = await startTestTower({ token: 'frag-token', script: dashboardScript });
    const { page } = await openPage(browser());
    await page.goto(`${t.url}/#token=frag-token`);
    await page.getByRole('heading', { name: 'Sessions' }).waitFor();
    expect(page.url()).not.toContain('frag-token');
    await page.context().close();
  }, 120_000);
});

describe('dashboard sessions', () => {
  it('creates a session, streams tokens, approves a tool call, steers, interrupts, answers a question, survives a reload mid-stream', async () => {
    t = await startTestTower({ script: dashboardScript });
    const { page, problems } = await openPage(browser());
    // Loopback without a token: straight in, no sign-in screen.
    await newSession(page, t.url);
    await shot(page, 'session-new');

    // Tokens stream: the reply is seen part-written before it is complete.
    await send(page, 'hello');
    // A function that runs in the page (InPage: why not a string).
    await page.waitForFunction(() => {
      const all = (globalThis as unknown as InPage).document.querySelectorAll('[data-testid=agent-text]');
      const text = all[all.length - 1]?.textContent ?? '';
      return text.includes('alpha') && !text.includes('omega');
    });
    await shot(page, 'session-streaming');
    await lastAgentText(page).filter({ hasText: 'omega' }).waitFor();
    expect(await lastAgentText(page).textContent()).toBe(GREETING);
    await page.getByTestId('session-status').filter({ hasText: 'idle' }).waitFor();

    // A tool call waits for approval; approve it and see its output and the answer.
    await send(page, 'use a tool');
    const approval = page.getByTestId('approval');
    await approval.waitFor();
    await page.getByTestId('session-status').filter({ hasText: 'waiting for approval' }).waitFor();
    await shot(page, 'session-approval');
    await approval.getByRole('button', { name: 'Approve', exact: true }).click();
    await lastAgentText(page).filter({ hasText: 'The command printed dashboard-ok.' }).waitFor();
    await page.locator('[data-kind=tool]').last().filter({ hasText: 'done' }).waitFor();
    await expect(approval.count()).resolves.toBe(0);

    // Steer while the turn waits on an approval: the steer is in the next model request.
    await send(page, 'steer test');
    await page.getByTestId('approval').waitFor();
    await page.getByLabel('Message', { exact: true }).fill('go left');
    await page.getByRole('button', { name: 'Steer' }).click();
    await page.getByTestId('queues').filter({ hasText: 'steer: go left' }).waitFor();
    await shot(page, 'session-steer-queued');
    await page.getByTestId('approval').getByRole('button', { name: 'Approve', exact: true }).click();
    await lastAgentText(page).filter({ hasText: 'Steered: going left.' }).waitFor();
    await page.locator('[data-kind=user]').filter({ hasText: 'You (steer)' }).waitFor();

    // Interrupt a turn that would never end.
    await page.getByTestId('session-status').filter({ hasText: 'idle' }).waitFor();
    await send(page, 'hang');
    await lastAgentText(page).filter({ hasText: 'Thinking' }).waitFor();
    await page.getByRole('button', { name: 'Interrupt' }).click();
    await page.locator('[data-kind=notice]').filter({ hasText: 'Turn stopped: canceled' }).waitFor();
    await page.getByTestId('session-status').filter({ hasText: 'idle' }).waitFor();

    // A question from the agent as a form built from its JSON schema.
    await send(page, 'ask me');
    const form = page.getByTestId('question');
    await form.waitFor();
    await shot(page, 'session-question');
    await form.getByRole('button', { name: 'Answer' }).click();
    await form.getByRole('alert').filter({ hasText: 'Your name is required' }).waitFor();
    await form.getByLabel('Your name').fill('Ada');
    await form.getByLabel('Replicas').fill('3');
    await form.getByRole('button', { name: 'Answer' }).click();
    await lastAgentText(page).filter({ hasText: 'Thanks, Ada (3 replicas).' }).waitFor();

    // Reload mid-stream: the transcript comes back complete, every line once.
    await page.getByTestId('session-status').filter({ hasText: 'idle' }).waitFor();
    await send(page, 'story');
    await lastAgentText(page).filter({ hasText: 'word1' }).waitFor();
    await page.reload();
    await lastAgentText(page).filter({ hasText: 'THE-END' }).waitFor();
    expect(await lastAgentText(page).textContent()).toBe(STORY);
    await page.getByTestId('session-status').filter({ hasText: 'idle' }).waitFor();
    const keys = await page.locator('[data-key]').evaluateAll((els) => els.map((e) => e.getAttribute('data-key')));
    expect(new Set(keys).size).toBe(keys.length);
    const texts = await page.locator('[data-testid=agent-text]').allTextContents();
    expect(texts.filter((x) => x === STORY)).toHaveLength(1);
    await page.getByRole('button', { name: 'Telemetry' }).click();
    await page.locator('.chart').first().waitFor();
    await shot(page, 'session-done');

    // The list shows the session with its tokens and cost; the telemetry page draws its charts.
    await page.getByRole('link', { name: 'Sessions' }).click();
    const row = page.locator('tr[data-session-id]').first();
    await row.waitFor();
    await shot(page, 'sessions-list');
    await page.getByRole('link', { name: 'Telemetry' }).click();
    await page.getByRole('img', { name: 'Cost over time, all sessions' }).waitFor();
    await shot(page, 'telemetry');
    expect(problems).toEqual([]);
    await page.context().close();
  }, 240_000);

  it('lists, stars, renames, searches and deletes sessions, and opens the runners and threads pages', async () => {
    t = await startTestTower({ script: dashboardScript });
    await t.client.createSession({ title: 'First one' });
    await t.client.createSession({ title: 'Second one' });
    const { page, problems } = await openPage(browser(), 'dark');
    await page.goto(t.url);
    const first = page.locator('tr[data-session-id]').filter({ hasText: 'First one' });
    await first.waitFor();
    // Keyboard: Tab reaches the navigation first, with a visible focus ring.
    await page.keyboard.press('Tab');
    expect(await page.locator(':focus').textContent()).toBe('Sessions');
    expect(await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")).toBe('solid');
    await first.getByRole('button', { name: 'Star First one' }).click();
    await first.getByRole('button', { name: 'Unstar First one' }).waitFor();
    await page.getByLabel('Filter sessions').selectOption('starred');
    await page.locator('tr[data-session-id]').filter({ hasText: 'Second one' }).waitFor({ state: 'detached' });
    await page.getByLabel('Filter sessions').selectOption('all');
    const second = page.locator('tr[data-session-id]').filter({ hasText: 'Second one' });
    await second.getByRole('button', { name: 'Rename' }).click();
    await page.getByLabel('New title').fill('Renamed two');
    await page.getByLabel('New title').press('Enter');
    await page.locator('tr[data-session-id]').filter({ hasText: 'Renamed two' }).waitFor();
    await page.getByLabel('Search sessions').fill('renamed');
    await page.locator('tr[data-session-id]').filter({ hasText: 'First one' }).waitFor({ state: 'detached' });
    await shot(page, 'sessions-dark-search');
    await page.getByLabel('Search sessions').fill('');
    const renamed = page.locator('tr[data-session-id]').filter({ hasText: 'Renamed two' });
    await renamed.getByRole('button', { name: 'Delete' }).click();
    await renamed.getByRole('button', { name: 'Confirm delete' }).click();
    await renamed.waitFor({ state: 'detached' });
    expect((await t.client.listSessions()).items.map((s) => s.title)).toEqual(['First one']);

    await page.getByRole('link', { name: 'Runners' }).click();
    // The gateway is on this server: the page lists runners (none connected) and offers runner tokens.
    await page.getByTestId('runners').waitFor({ state: 'attached' });
    await page.getByRole('heading', { name: 'Runners' }).waitFor();
    await shot(page, 'runners');
    await page.getByRole('link', { name: 'Threads' }).click();
    // Messaging is on this server: the page lists threads (none yet) and the human inbox.
    await page.getByTestId('threads').waitFor();
    await page.getByText('No threads yet.').waitFor();
    await shot(page, 'threads');
    expect(problems).toEqual([]);
    await page.context().close();
  }, 120_000);
});

describe('dashboard live feed', () => {
  it('shows reconnecting while Tower restarts, then resumes from its last seq with nothing lost or doubled', async () => {
    t = await startTestTower({ script: dashboardScript });
    const s = await t.client.createSession({ title: 'Restart me' });
    const { page, problems } = await openPage(browser());
    await page.goto(`${t.url}/sessions/${s.id}`);
    const live = page.getByTestId('live-state');
    await live.filter({ hasText: 'live' }).waitFor();
    await send(page, 'hello');
    await lastAgentText(page).filter({ hasText: 'omega' }).waitFor();
    await t.stop();
    await live.filter({ hasText: 'reconnecting' }).waitFor();
    await shot(page, 'session-reconnecting');
    t = await t.restart();
    await live.filter({ hasText: /^live$/ }).waitFor();
    await send(page, 'story');
    await lastAgentText(page).filter({ hasText: 'THE-END' }).waitFor();
    expect(await page.locator('[data-kind=user]').allTextContents()).toEqual([expect.stringContaining('hello'), expect.stringContaining('story')]);
    expect(await page.locator('[data-testid=agent-text]').allTextContents()).toEqual([GREETING, STORY]);
    expect(problems).toEqual([]);
    await page.context().close();
  }, 120_000);

  it('renders a 10,000-event transcript virtualized, and the keyboard scrolls it', async () => {
    t = await startTestTower({ script: dashboardScript });
    const created = await t.client.createSession({ title: 'Big' });
    const base = await t.tower.commands.execute('sessions.export', { session_id: created.id });
    const events = [...base.events];
    const messages = [];
    let last = 0;
    for (let i = 0; events.length < 10_000; i++) {
      last = i;
      const at = new Date(Date.parse('2026-01-01T00:00:00Z') + i * 1000).toISOString();
      const seq = events.length + 1;
      events.push({ session_id: created.id, seq, type: 'user_message', data: { content: `question-${i}`, message_index: i * 2 }, timestamp: at });
      messages.push({ index: i * 2, message: { role: 'user' as const, content: `question-${i}` }, created_at: at });
      events.push({ session_id: created.id, seq: seq + 1, type: 'agent_choice', data: { content: `answer-${i}` }, timestamp: at });
      messages.push({ index: i * 2 + 1, message: { role: 'assistant' as const, content: `answer-${i}` }, created_at: at });
    }
    const data = { ...base, session: { ...base.session, id: 'ses_big', last_event_seq: events.length }, events: events.map((e) => ({ ...e, session_id: 'ses_big' })), messages };
    await t.tower.commands.execute('sessions.import', { data });
    const { page, problems } = await openPage(browser());
    await page.goto(`${t.url}/sessions/ses_big`);
    // The end of the log is on screen (the view follows the bottom), the start is not in the DOM.
    await page.locator('[data-kind=user]').filter({ hasText: `question-${last}Fork` }).waitFor();
    await page.locator('[data-kind=text]').filter({ hasText: `answer-${last}` }).waitFor();
    expect(await page.locator('[data-key]').count()).toBeLessThan(200);
    await expect(page.locator('[data-kind=user]').filter({ hasText: /^Youquestion-0Fork here$/ }).count()).resolves.toBe(0);
    await page.getByTestId('transcript').focus();
    await page.keyboard.press('Home');
    await page.locator('[data-kind=user]').filter({ hasText: /^Youquestion-0Fork here$/ }).waitFor();
    await shot(page, 'session-10k');
    expect(problems).toEqual([]);
    await page.context().close();
  }, 120_000);
});

describe('dashboard build served', () => {
  it('serves index.html no-cache and hashed assets immutable, with a CSP allowing same-origin scripts only', async () => {
    t = await startTestTower({ script: dashboardScript });
    const index = await fetch(`${t.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const csp = index.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*(unsafe-inline|unsafe-eval|\*)/);
    const html = await index.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const a of assets) {
      const r = await fetch(`${t.url}${a}`);
      expect(r.status, a).toBe(200);
      expect(r.headers.get('cache-control'), a).toBe('public, max-age=31536000, immutable');
    }
    const route = await fetch(`${t.url}/sessions/whatever`, { headers: { accept: 'text/html' } });
    expect(route.headers.get('cache-control')).toBe('no-cache');
    expect(await route.text()).toBe(html);
    const api = await fetch(`${t.url}/api/nope`, { headers: { accept: 'text/html' } });
    expect(api.status).toBe(404);
    expect(api.headers.get('content-type')).toContain('application/json');
  });
});
