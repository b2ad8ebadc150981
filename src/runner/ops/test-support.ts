import { mkdir, mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { OpContext } from './context.js';
import { toolEnvironment } from '../executor/tool-env.js';
import { MemoryProcessRegistry } from '../process-registry.js';
import { McpClients } from './mcp.js';
import { createShellPolicy } from './shell-policy.js';

/** A workspace `<tmp>/root` with a sibling `<tmp>/root-evil` (shares the string prefix, lies outside). */
export interface OpWorkspace {
  root: string;
  outside: string;
  ctx(overrides?: Partial<OpContext>): OpContext;
  cleanup(): Promise<void>;
}

let counter = 0;

export async function makeOpWorkspace(): Promise<OpWorkspace> {
  const base = await realpath(await mkdtemp(path.join(tmpdir(), 'tower-ops-')));
  const root = path.join(base, 'root');
  const outside = path.join(base, 'root-evil');
  await mkdir(root);
  await mkdir(outside);
  const mcp = new McpClients();
  return {
    root,
    outside,
    ctx: (overrides = {}) => {
      counter += 1;
      return {
        root,
        taskId: `task_${counter}`,
        signal: new AbortController().signal,
        shellPolicy: createShellPolicy(),
        commands: { registry: new MemoryProcessRegistry(), sandbox: 'none', network: false, hide: [], env: toolEnvironment(process.env) },
        allowPrivateNet: false,
        mcp,
        ...overrides,
      };
    },
    cleanup: async () => {
      await mcp.closeAll();
      await rm(base, { recursive: true, force: true });
    },
  };
}
