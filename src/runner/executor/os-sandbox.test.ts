import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TowerError } from '../../protocol/errors.js';
import { createLocalExecutor } from './executor.js';
import { chooseSandbox } from './os-sandbox.js';
import { callTool, makeWorkspace, type Workspace } from './test-support.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

const bash = (executor: ReturnType<typeof createLocalExecutor>, command: string, extra?: Parameters<typeof callTool>[4]) =>
  callTool(executor, ws.root, 'bash', { command }, extra);

async function listen(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.end('hello\n'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port };
}

describe('bash in the bwrap sandbox', () => {
  const executor = createLocalExecutor({ sandbox: 'bwrap' });

  it('writes inside the working directory but not outside it, and has a private /tmp', async () => {
    const res = await bash(
      executor,
      [
        'echo in > inside.txt',
        `echo out > ${ws.outside}/escape.txt 2>/dev/null && echo WROTE-OUTSIDE`,
        'echo x > /etc/tower-escape 2>/dev/null && echo WROTE-ETC',
        'echo t > /tmp/tower-private && cat /tmp/tower-private',
      ].join('; '),
    );
    expect(res.output).not.toContain('WROTE');
    expect(res.output).toContain('t\n');
    expect(await readFile(path.join(ws.root, 'inside.txt'), 'utf8')).toBe('in\n');
    await expect(readFile(path.join(ws.outside, 'escape.txt'))).rejects.toThrow();
    await expect(readFile('/tmp/tower-private')).rejects.toThrow();
  });

  it('has no network unless the session allows it', async () => {
    const { server, port } = await listen();
    try {
      const probe = `(exec 3<>/dev/tcp/127.0.0.1/${port} && head -1 <&3) 2>/dev/null || echo NO-NETWORK`;
      const off = await bash(executor, probe);
      expect(off.output).toContain('NO-NETWORK');
      const on = await bash(executor, probe, { network: true });
      expect(on.output).toContain('hello');
      const byDefault = await bash(createLocalExecutor({ sandbox: 'bwrap', network: true }), probe);
      expect(byDefault.output).toContain('hello');
    } finally {
      server.close();
    }
  });

  it('hides the configured paths (the data dir with the token)', async () => {
    const dataDir = path.join(ws.outside, 'data');
    await mkdir(dataDir);
    await writeFile(path.join(dataDir, 'token'), 'sekrit-token');
    const hiding = createLocalExecutor({ sandbox: 'bwrap', hide: [dataDir] });
    const res = await bash(hiding, `cat ${dataDir}/token 2>&1; ls -A ${dataDir} | wc -l`);
    expect(res.output).not.toContain('sekrit-token');
    expect(res.output).toMatch(/^0$/m);
  });

  it('a session can turn the sandbox off: `none` behaves as before (writes anywhere the user can)', async () => {
    const res = await bash(executor, `echo out > ${ws.outside}/free.txt && echo OK`, { sandbox: 'none' });
    expect(res.output).toContain('OK');
    expect(await readFile(path.join(ws.outside, 'free.txt'), 'utf8')).toBe('out\n');
  });
});

describe('chooseSandbox', () => {
  const failing = async () => ({ ok: false as const, reason: 'no user namespaces' });
  const base = { network: false, hide: [], root: '/w' };

  it('auto falls back when bwrap does not work: warns once in the log and tells the first result per directory', async () => {
    const warnings: unknown[] = [];
    const logger = { info: () => undefined, warn: (o: object) => warnings.push(o) };
    const first = await chooseSandbox({ ...base, root: '/auto-a', mode: 'auto', probe: failing, logger });
    expect(first).toEqual({ kind: 'none', fallback: 'no user namespaces' });
    expect(await chooseSandbox({ ...base, root: '/auto-a', mode: 'auto', probe: failing, logger })).toEqual({ kind: 'none' });
    expect(await chooseSandbox({ ...base, root: '/auto-b', mode: 'auto', probe: failing, logger })).toMatchObject({ fallback: 'no user namespaces' });
    expect(warnings.length).toBeLessThanOrEqual(1);
  });

  it('bwrap that does not work is an error, never a silent downgrade', async () => {
    await expect(chooseSandbox({ ...base, mode: 'bwrap', probe: failing })).rejects.toBeInstanceOf(TowerError);
  });

  it('none never probes', async () => {
    const probe = async () => {
      throw new Error('probed');
    };
    expect(await chooseSandbox({ ...base, mode: 'none', probe })).toEqual({ kind: 'none' });
  });
});
