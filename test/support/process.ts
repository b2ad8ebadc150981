import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FakeModelServer } from '../../src/fake-models/index.js';
import { fakeModelsConfig } from './harness.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
export const CLI = path.join(ROOT, 'src/cli/main.ts');

/** Runs the CLI from source in a child process (tsx), with a clean environment: no provider keys. */
export function spawnCli(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', TOWER_LOG_LEVEL: 'warn', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export interface TowerProcess {
  url: string;
  proc: ChildProcess;
  output(): string;
  /** Resolves with the exit code once the process is gone. */
  exited: Promise<number | null>;
}

/** `tower serve` in a real child process, pointed at a fake model server through a config file. */
export async function spawnTower(opts: {
  dataDir: string;
  workDir: string;
  fake: FakeModelServer;
  port?: number;
  /** Extra config-file keys (sandbox, tool_env...). */
  config?: Record<string, unknown>;
  env?: Record<string, string>;
}): Promise<TowerProcess> {
  const configFile = path.join(opts.dataDir, 'test-config.json');
  writeFileSync(configFile, JSON.stringify({ ...fakeModelsConfig(opts.fake).config, ...opts.config }));
  const proc = spawnCli(
    ['serve', '--port', String(opts.port ?? 0), '--data-dir', opts.dataDir, '--config', configFile],
    { TOWER_WORKING_DIR: opts.workDir, ...opts.env },
  );
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tower did not start:\n${out}`)), 20_000);
    const check = (): void => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stderr?.on('data', check);
    proc.stdout?.on('data', check);
    void exited.then(() => reject(new Error(`tower exited early:\n${out}`)));
  });
  return { url, proc, output: () => out, exited };
}

/** Collects a child's stdout and stderr until it exits. */
export function runToEnd(proc: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  proc.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => proc.once('exit', (code) => resolve({ code, stdout, stderr })));
}
