import { readFile, symlink } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LIMITS } from './limits.js';
import { previewOf, spillIfLong } from './spill.js';
import { makeWorkspace, type Workspace } from './test-support.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

describe('spillIfLong', () => {
  it('returns short text unchanged', async () => {
    const text = 'x'.repeat(LIMITS.maxResultChars);
    expect(await spillIfLong(text, ws.root, 'id')).toBe(text);
  });

  it('saves long text whole and returns a preview with truncated, file_path and total_size', async () => {
    const text = Array.from({ length: 5000 }, (_, i) => `row ${i} é`).join('\n');
    const res = await spillIfLong(text, ws.root, 'call_7');
    expect(res.startsWith(previewOf(text))).toBe(true);
    expect(res).toContain(`[truncated: true, file_path: .tower/outputs/call_7.txt, total_size: ${Buffer.byteLength(text)} bytes]`);
    expect(await readFile(path.join(ws.root, '.tower/outputs/call_7.txt'), 'utf8')).toBe(text);
  });

  it('limits the preview to 20 lines and 8000 characters', () => {
    expect(previewOf(Array.from({ length: 100 }, (_, i) => String(i)).join('\n')).split('\n')).toHaveLength(20);
    expect(previewOf('y'.repeat(50_000))).toHaveLength(LIMITS.previewChars);
  });

  it('does not follow a .tower symlink out of the workspace; it still returns a preview', async () => {
    await symlink(ws.outside, path.join(ws.root, '.tower'));
    const res = await spillIfLong('z\n'.repeat(LIMITS.maxResultChars), ws.root, 'x');
    expect(res).toMatch(/\[truncated: true, total_size: \d+ bytes; the full output could not be saved: .*outside the working directory/);
  });
});
