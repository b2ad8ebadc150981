import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestTower, type TestTower } from '../support/harness.js';
import { openPage, sharedBrowser, shot, type InPage } from './browser.js';
import { dashboardScript } from './dashboard-script.js';

/**
 * The issue 14 lines the main dashboard test does not walk: a token revoked while signed in, the new
 * session form's fields, reject with a reason and approve-for-the-session, usage and cost per step,
 * the follow-up queue, fork at a message, sort and export in the list, and the light/dark themes.
 */
const browser = sharedBrowser();
let t: TestTower | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function send(page: Page, text: string): Promise<void> {
  const box = page.getByLabel('Message', { exact: true });
  await box.fill(text);
  await box.press('Enter');
}

const lastAgentText = (page: Page) => page.locator('[data-testid=agent-text]').last();

describe('dashboard controls', () => {
  it('a token revoked on the server while signed in brings back the sign-in screen, saying so', async () => {
    t = await startTestTower({ token: 'first-token', script: dashboardScript });
    const { page } = await openPage(browser());
    await page.goto(`${t.url}/#token=first-token`);
    await page.getByRole('heading', { name: 'Sessions' }).waitFor();
    await page.getByTestId('connection').and(page.locator('[data-hub=open]')).waitFor();
    // The server comes back with another token: the one the page holds is no longer valid.
    const port = t.tower.port;
    await t.stop();
    const old = t;
    t = await startTestTower({ token: 'second-token', script: dashboardScript, port, dataDir: old.dataDir, workDir: old.workDir, fake: old.fake });
    await page.getByRole('heading', { name: 'Sign in to Tower' }).waitFor();
    await page.getByRole('alert').filter({ hasText: /refused|revoked/ }).waitFor();
    await shot(page, 'signin-revoked');
    await page.getByLabel('Token').fill('second-token');
    await page.getByLabel('Token').press('Enter');
    await page.getByRole('heading', { name: 'Sessions' }).waitFor();
    await page.context().close();
    await old.fake.close().catch(() => undefined);
  }, 120_000);

  it('new session with working dir and policy; reject with a reason, approve for the session, usage per step, follow-up queue, fork', async () => {
    t = await startTestTower({ script: dashboardScript });
    const dir = path.join(t.workDir, 'project');
    mkdirSync(dir, { recursive: true });
    const { page, problems } = await openPage(browser());
    await page.goto(t.url);
    await page.getByRole('button', { name: 'New session' }).click();
    await page.getByLabel('Working directory').fill(dir);
    await page.getByLabel('Permissions').selectOption('strict');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByTestId('live-state').filter({ hasText: 'live' }).waitFor();
    const id = new URL(page.url()).pathname.split('/').pop() ?? '';
    const created = await t.client.getSession(id);
    expect(created).toMatchObject({ working_dir: dir, permissions: { policy: 'strict' } });

    // Reject with a reason: the tool line says rejected and why.
    await send(page, 'use a tool');
    const approval = page.getByTestId('approval');
    await approval.waitFor();
    // The list, open beside it, shows the wait live.
    const list = await page.context().newPage();
    await list.goto(t.url);
    const row = list.locator(`tr[data-session-id="${id}"]`);
    await row.locator('.status').filter({ hasText: 'waiting for approval' }).waitFor();
    await approval.getByLabel('Reason for rejecting').fill('not on this machine');
    await approval.getByRole('button', { name: 'Reject' }).click();
    const tool = page.locator('[data-kind=tool]').last();
    await tool.getByText('Reason: not on this machine').waitFor();
    await tool.locator('.badge').filter({ hasText: 'reject' }).waitFor();
    await page.getByTestId('session-status').filter({ hasText: 'idle' }).waitFor();

    await row.locator('.status').filter({ hasText: 'idle' }).waitFor();
    // A question: the list says the session waits for an answer.
    await send(page, 'ask me');
    await row.locator('.status').filter({ hasText: 'waiting for an answer' }).waitFor();
    const form = page.getByTestId('question');
    await form.getByLabel('Your name').fill('Ada');
    await form.getByRole('button', { name: 'Answer' }).click();
    await row.locator('.status').filter({ hasText: 'idle' }).waitFor();
    await list.close();

    // Approve for the whole session: the next call of any tool runs without asking.
    await send(page, 'use a tool');
    await approval.waitFor();
    await approval.getByRole('button', { name: 'Approve all this session' }).click();
    await lastAgentText(page).filter({ hasText: 'The command printed dashboard-ok.' }).waitFor();
    await page.getByTestId('session-status').filter({ hasText: 'idle' }).waitFor();
    await send(page, 'steer test');
    await page.locator('[data-kind=tool]').filter({ hasText: 'steer-step' }).filter({ hasText: 'done' }).waitFor();
    await lastAgentText(page).filter({ hasText: 'Tool done.' }).waitFor();
    expect(await approval.count()).toBe(0);
    await page.getByTestId('session-status').filter({ hasText: 'idle' }).waitFor();

    // Token usage and cost per model step.
    await send(page, 'hello');
    await lastAgentText(page).filter({ hasText: 'omega' }).waitFor();
    await page.locator('[data-kind=usage]').filter({ hasText: '120 in' }).filter({ hasText: '20 out' }).waitFor();

    // A follow-up queued while a turn runs is shown in the queue, then runs after it.
    await page.getByTestId('session-status').filter({ hasText: 'idle' }).waitFor();
    await send(page, 'story');
    await lastAgentText(page).filter({ hasText: 'word1' }).waitFor();
    await page.getByLabel('Message', { exact: true }).fill('hello');
    await page.getByRole('button', { name: 'Follow-up' }).click();
    await page.getByTestId('queues').filter({ hasText: 'follow-up: hello' }).waitFor();
    await shot(page, 'session-follow-up-queued');
    await page.locator('[data-kind=user]').filter({ hasText: 'hello' }).nth(1).waitFor();
    await page.getByTestId('session-status').filter({ hasText: 'idle' }).waitFor();

    // Fork at the last message (the list is virtualized: the first ones are scrolled away): a new session.
    const before = (await t.client.listSessions()).items.length;
    await page.locator('[data-kind=user]').last().getByRole('button', { name: /^Fork at message \d+$/ }).click();
    await page.waitForURL((u) => !u.pathname.endsWith(id));
    await page.getByTestId('live-state').filter({ hasText: 'live' }).waitFor();
    expect((await t.client.listSessions()).items.length).toBe(before + 1);
    await shot(page, 'session-forked');
    expect(problems).toEqual([]);
    await page.context().close();
  }, 180_000);

  it('reasoning is collapsed and opens from the keyboard; the model switcher changes the next step\'s model', async () => {
    t = await startTestTower({ script: dashboardScript, models: ['fake/gpt-other'] });
    const s = await t.client.createSession({ title: 'Thinker' });
    const { page, problems } = await openPage(browser());
    await page.goto(`${t.url}/sessions/${s.id}`);
    await page.getByTestId('live-state').filter({ hasText: 'live' }).waitFor();
    await send(page, 'think');
    await lastAgentText(page).filter({ hasText: 'Thought it through.' }).waitFor();
    const reasoning = page.locator('details[data-kind=reasoning]');
    expect(await reasoning.getAttribute('open')).toBeNull();
    await reasoning.locator('summary').focus();
    await page.keyboard.press('Enter');
    await reasoning.and(page.locator('[open]')).getByText('Weighing the options first.').waitFor();
    await page.getByTestId('session-status').filter({ hasText: 'idle' }).waitFor();
    await page.getByLabel('Model').selectOption('fake/gpt-other');
    await expect.poll(async () => (await t!.client.getSession(s.id)).model).toBe('fake/gpt-other');
    await send(page, 'hello');
    await page.locator('[data-kind=usage]').filter({ hasText: 'fake/gpt-other:' }).waitFor();
    await shot(page, 'session-reasoning-model');
    expect(problems).toEqual([]);
    await page.context().close();
  }, 120_000);

  it('sorts and exports from the list; light and dark follow the system', async () => {
    t = await startTestTower({ script: dashboardScript });
    await t.client.createSession({ title: 'Bravo' });
    await t.client.createSession({ title: 'Alpha' });
    const light = await openPage(browser(), 'light');
    const dark = await openPage(browser(), 'dark');
    for (const { page } of [light, dark]) {
      await page.goto(t.url);
      await page.locator('tr[data-session-id]').first().waitFor();
    }
    const bg = (p: Page) => p.evaluate('getComputedStyle(document.body).backgroundColor') as Promise<string>;
    expect(await bg(light.page)).not.toBe(await bg(dark.page));
    const page = light.page;
    await page.getByLabel('Sort sessions').selectOption('title');
    const titles = async () => (await page.locator('tr[data-session-id] .title, tr[data-session-id] td:nth-child(2)').allTextContents()).join('|');
    await page.waitForFunction(() => {
      const r = Array.from((globalThis as unknown as InPage).document.querySelectorAll('tr[data-session-id]'), (e) => e.textContent ?? '');
      return r.length === 2 && (r[0] ?? '').includes('Alpha');
    });
    expect(await titles()).toMatch(/Alpha.*Bravo/);
    const row = page.locator('tr[data-session-id]').filter({ hasText: 'Alpha' });
    const download = page.waitForEvent('download');
    await row.getByRole('button', { name: 'Export' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/\.json$/);
    const body = JSON.parse(await streamText(await file.createReadStream()));
    expect(JSON.stringify(body)).toContain('Alpha');
    await shot(page, 'sessions-sorted-light');
    for (const p of [light, dark]) await p.page.context().close();
  }, 120_000);
});

async function streamText(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text;
}
