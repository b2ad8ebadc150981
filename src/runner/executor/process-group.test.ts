import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';

/** Counts the /proc reads in flight at once, by wrapping the real readFile. */
const reads = vi.hoisted(() => ({ inFlight: 0, most: 0, total: 0 }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  const readFile = (async (...args: Parameters<typeof actual.readFile>) => {
    reads.inFlight += 1;
    reads.total += 1;
    reads.most = Math.max(reads.most, reads.inFlight);
    try {
      return await actual.readFile(...args);
    } finally {
      reads.inFlight -= 1;
    }
  }) as typeof actual.readFile;
  return { ...actual, default: { ...actual, readFile }, readFile };
});

const { findTree, MARKER_VAR } = await import('./process-group.js');

const children: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

describe.runIf(process.platform === 'linux')('findTree', () => {
  it('reads /proc a slice at a time, however many processes there are, and still finds the marked ones', async () => {
    const marker = randomUUID();
    // Enough processes that one Promise.all over /proc would have far more than a slice in flight.
    for (let i = 0; i < 60; i++) children.push(spawn('sleep', ['60'], { stdio: 'ignore' }));
    const marked = spawn('sleep', ['60'], { stdio: 'ignore', env: { PATH: process.env.PATH ?? '', [MARKER_VAR]: marker } });
    children.push(marked);
    await new Promise((resolve) => marked.once('spawn', resolve));
    reads.most = 0;
    reads.total = 0;
    const found = await findTree({ pgid: 0, startTicks: 0, marker });
    expect(found).toEqual([marked.pid]);
    expect(reads.total).toBeGreaterThan(60);
    expect(reads.most).toBeLessThanOrEqual(16);
  });
});
