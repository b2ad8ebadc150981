import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { statOrNull } from '../fs-util.js';
import { displayPath, resolveInside } from '../sandbox.js';
import { defineTool, fail, ok } from '../tool.js';

const schema = z.object({
  path: z.string().min(1).describe('File to write, relative to the working directory.'),
  content: z.string().describe('The complete new content of the file (UTF-8).'),
});

export const writeTool = defineTool({
  name: 'write',
  description: [
    'Write a text file in the working directory, replacing it if it exists. Missing parent directories are',
    'created. Paths are relative to the working directory; absolute paths are accepted only inside it.',
    'Writing through a symlink writes its target, and only when that target is inside the working directory.',
    'Returns the number of bytes written.',
  ].join(' '),
  schema,
  async run(args, ctx) {
    const file = await resolveInside(ctx.root, args.path);
    const shown = displayPath(ctx.root, file);
    const existing = await statOrNull(file);
    if (existing?.isDirectory()) return fail(`${shown} is a directory; give a file path to write`);

    // The parent chain was checked by resolveInside: its missing part is plain names below a real directory
    // inside the workspace, so creating it cannot leave the workspace.
    await mkdir(path.dirname(file), { recursive: true });
    const bytes = Buffer.byteLength(args.content, 'utf8');
    await writeFile(file, args.content, 'utf8');
    const verb = existing === null ? 'created' : 'overwrote';
    return ok(`${verb} ${shown} (${bytes} bytes written)`);
  },
});
