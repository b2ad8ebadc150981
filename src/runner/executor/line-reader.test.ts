import { open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readLines, type Line } from './line-reader.js';
import { makeWorkspace, type Workspace } from './test-support.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

async function linesOf(content: string | Buffer, max = 1000): Promise<Line[]> {
  const file = path.join(ws.root, 'f.txt');
  await writeFile(file, content);
  const handle = await open(file, 'r');
  try {
    const out: Line[] = [];
    for await (const line of readLines(handle, max)) out.push(line);
    return out;
  } finally {
    await handle.close();
  }
}

const texts = (lines: Line[]): string[] => lines.map((l) => l.text);

describe('readLines', () => {
  it('splits like readline: \\n and \\r\\n end lines, a last line without newline counts, empty file has none', async () => {
    expect(texts(await linesOf('a\nb\r\nc'))).toEqual(['a', 'b', 'c']);
    expect(texts(await linesOf('a\n\nb\n'))).toEqual(['a', '', 'b']);
    expect(await linesOf('')).toEqual([]);
    expect(texts(await linesOf('lone\rcr\n'))).toEqual(['lone\rcr']);
  });

  it('caps each line while reading and reports its full length', async () => {
    const long = 'x'.repeat(300_000);
    const lines = await linesOf(`${long}\r\nshort\n`, 10);
    expect(lines).toEqual([
      { text: 'xxxxxxxxxx', length: 300_000 },
      { text: 'short', length: 5 },
    ]);
  });

  it('joins a multi-byte character split across chunk boundaries', async () => {
    // 64 KiB chunks: put a 3-byte "€" across the first boundary.
    const prefix = 'a'.repeat(64 * 1024 - 1);
    const lines = await linesOf(Buffer.from(`${prefix}€b\nz`), 100_000);
    expect(lines[0]?.text.endsWith('€b')).toBe(true);
    expect(lines[0]?.length).toBe(prefix.length + 2);
    expect(lines[1]?.text).toBe('z');
  });
});
