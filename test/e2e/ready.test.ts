import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { startFakeModelServer } from '../../src/fake-models/index.js';
import { resolveConfig } from '../../src/server/config.js';
import { startTower } from '../../src/server/tower.js';
import { fakeModelsConfig, tempDir } from '../support/harness.js';
import { freePortPair } from '../support/ports.js';

describe('GET /ready', () => {
  it('answers 503 with the reason until recovery has finished, then 200', async () => {
    const fake = await startFakeModelServer({ format: 'openai', script: [] });
    const dataDir = tempDir('ready-data');
    const workDir = tempDir('ready-work');
    const config = resolveConfig({ host: '127.0.0.1', port: 0, dataDir, workingDir: workDir, busPort: await freePortPair() }, {});
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let bound!: (url: string) => void;
    const urlSeen = new Promise<string>((r) => (bound = r));
    const starting = startTower(config, {
      models: fakeModelsConfig(fake).config,
      env: {},
      logger: silentLogger,
      onStartPhase: async (phase, url) => {
        if (phase !== 'recovering interrupted turns') return;
        bound(url);
        await held;
      },
    });
    try {
      const url = await urlSeen;
      const notYet = await fetch(`${url}/ready`);
      expect(notYet.status).toBe(503);
      expect(await notYet.json()).toMatchObject({ ready: false, reason: 'recovering interrupted turns' });
      expect((await fetch(`${url}/health`)).status).toBe(200);
      const api = await fetch(`${url}/api/sessions`);
      expect(api.status).toBe(503);
      expect(((await api.json()) as { code: string }).code).toBe('not_ready');
    } finally {
      release();
    }
    const tower = await starting;
    try {
      const ready = await fetch(`${tower.url}/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ ready: true });
      expect((await fetch(`${tower.url}/api/sessions`)).status).toBe(200);
    } finally {
      await tower.close();
      await fake.close();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});
