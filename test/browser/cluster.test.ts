import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedRunnerToken, RunnerView } from '../../src/protocol/runner-api.js';
import { NO_POSTGRES } from '../../src/store/postgres/test-db.js';
import { startRunnerCluster } from '../support/cluster.js';
import { spawnNodeRunner, stopRunner } from '../support/runners.js';
import { openPage, sharedBrowser, shot } from './browser.js';

/**
 * The Runners page of a cluster in a real browser: two Tower nodes on one Postgres schema and one
 * Redis, a runner connected to node B, the page open on node A (and on B). Every wait is on DOM state.
 */
const browser = sharedBrowser();

describe.skipIf(NO_POSTGRES)('dashboard runners page in a cluster', () => {
  let rig: Awaited<ReturnType<typeof startRunnerCluster>> | undefined;
  beforeAll(async () => {
    rig = await startRunnerCluster('webcl');
  }, 60_000);
  afterAll(async () => {
    await rig?.close();
  });

  it('names the node holding each runner, on every node, live from the hub', async () => {
    const [a, b] = rig!.nodes;
    const pages = await Promise.all([openPage(browser()), openPage(browser())]);
    const [onA, onB] = pages.map((p) => p.page) as [(typeof pages)[0]['page'], (typeof pages)[0]['page']];
    try {
      for (const [page, node] of [[onA, a], [onB, b]] as const) {
        await page.goto(`${node.url}/runners`);
        await page.getByTestId('runners').and(page.locator('[data-transport=hub]')).waitFor({ state: 'attached' });
        await page.getByTestId('connection').and(page.locator('[data-hub=open]')).waitFor();
      }
      const res = await fetch(`${b.url}/api/runners/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'far', labels: ['far'] }) });
      const token = (await res.json()) as CreatedRunnerToken;
      const runner = spawnNodeRunner(rig!.base, b.url, token.token, 'far');
      try {
        const listed = async (): Promise<string | undefined> => ((await (await fetch(`${b.url}/api/runners/${token.id}`)).json()) as RunnerView).node;
        for (const page of [onA, onB]) {
          const card = page.locator('li[data-runner=far]');
          await card.and(page.locator('[data-online=true]')).waitFor({ timeout: 20_000 });
          const node = await listed();
          expect(node).toEqual(expect.any(String));
          await card.getByTestId('runner-node').filter({ hasText: `node ${node}` }).waitFor();
          // B's idle runner is seen alive on A too: its heartbeats arrive there.
          await card.getByText(/^last heartbeat /).waitFor({ timeout: 20_000 });
        }
        await shot(onA, 'runners-cluster');
      } finally {
        await stopRunner(runner);
      }
      expect(pages.flatMap((p) => p.problems)).toEqual([]);
    } finally {
      for (const p of pages) await p.page.context().close();
    }
  }, 120_000);
});
