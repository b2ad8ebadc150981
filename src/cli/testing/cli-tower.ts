import { afterEach, beforeEach } from 'vitest';
import { startRealTower, type RealTower } from '../../client/testing/real-tower.js';
import { run } from '../program.js';
import { capture, type Captured } from './capture.js';

const TOKEN = 'tok';

/** The CLI against a real tower: one per test (token `tok`, `echo` asks for approval), closed after it. */
export interface CliTower {
  /** The running test's tower. */
  readonly tower: RealTower;
  /** `tower <args>` run in-process against it (`--url`, `--token` given); resolves with the exit code. */
  run(args: string[], captured?: Captured): Promise<number>;
  /** A session whose turn runs until `tower.release()` (or an interrupt). */
  busySession(): Promise<string>;
}

/** Call at the top of a test file: registers the `beforeEach`/`afterEach` that start and close the tower. */
export function cliTower(): CliTower {
  let current: RealTower | undefined;
  beforeEach(async () => {
    current = await startRealTower({ token: TOKEN, permissions: { ask: ['echo'] } });
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  const rig: CliTower = {
    get tower(): RealTower {
      if (!current) throw new Error('cliTower: no tower outside a test');
      return current;
    },
    run: (args, captured = capture()) => run(['--url', rig.tower.url, '--token', TOKEN, ...args], captured.io),
    async busySession() {
      const { id } = await rig.tower.client.createSession();
      rig.tower.hold();
      await rig.tower.client.send(id, 'busy');
      return id;
    },
  };
  return rig;
}
