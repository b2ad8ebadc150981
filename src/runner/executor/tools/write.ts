import { z } from 'zod';
import { statOrNull } from '../fs-util.js';
import { writeInside } from '../safe-open.js';
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
    'The file is replaced (written beside it and renamed over it), so hard links to it are not written through.',
    'Returns the number of bytes written.',
  ].join(' '),
  schema,
  async run(args, ctx) {
    const file = await resolveInside(ctx.root, args.path);
    const shown = displayPath(ctx.root, file);
    const existing = await statOrNull(file);
    if (existing?.isDirectory()) return fail(`${shown} is a directory; give a file path to write`);

    // The parent chain was checked by resolveInside; writeInside walks it again by descriptor, so a directory
    // swapped for a symlink meanwhile is refused rather than followed out of the workspace.
    const bytes = Buffer.byteLength(args.content, 'utf8');
    await writeInside(ctx.root, file, args.content);
    const verb = existing === null ? 'created' : 'overwrote';
    return ok(`${verb} ${shown} (${bytes} bytes written)`);
  },
});
