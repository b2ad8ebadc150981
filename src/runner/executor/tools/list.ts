import { z } from 'zod';
import { compareStrings, statOrNull } from '../fs-util.js';
import { LIMITS } from '../limits.js';
import { displayPath, resolveInside } from '../sandbox.js';
import { defineTool, fail, ok } from '../tool.js';
import { openDirInside, pathOfDir } from '../safe-open.js';
import { readEntries } from '../walk.js';
import { Yielder, sortYielding } from '../yielder.js';

const schema = z.object({
  path: z
    .string()
    .default('.')
    .describe('Directory to list, relative to the working directory (default: the working directory itself).'),
});

export const listTool = defineTool({
  name: 'list',
  description: [
    'List the entries of one directory in the working directory (not recursive; use glob for that).',
    'Directories end with `/`, symbolic links with `@`. Entries are sorted by name; at most',
    `${LIMITS.listMaxEntries} are shown. Paths are relative to the working directory.`,
  ].join(' '),
  schema,
  async run(args, ctx) {
    const dir = await resolveInside(ctx.root, args.path);
    const shown = displayPath(ctx.root, dir);
    const st = await statOrNull(dir);
    if (st === null) return fail(`directory not found: ${shown}`);
    if (!st.isDirectory()) return fail(`${shown} is a file, not a directory; use the read tool to see it`);

    const yielder = new Yielder();
    // Listed through a descriptor opened component by component: a swap cannot list an outside directory.
    const handle = await openDirInside(ctx.root, dir, false);
    let entries;
    try {
      entries = await readEntries(pathOfDir(handle, dir), ctx.signal, yielder);
    } finally {
      await handle.close();
    }
    if (ctx.signal.aborted) return fail('list was canceled');
    if (entries === null) return fail(`cannot read directory ${shown}`);
    if (entries.length === 0) return ok(`(${shown} is empty)`);
    // Symlinks are marked rather than followed: following one would report on whatever it points to,
    // possibly outside the working directory.
    const names = await sortYielding(
      entries.map((e) => (e.isDirectory() ? `${e.name}/` : e.isSymbolicLink() ? `${e.name}@` : e.name)),
      compareStrings,
      yielder,
    );
    const shownNames = names.slice(0, LIMITS.listMaxEntries);
    let text = shownNames.join('\n');
    if (names.length > shownNames.length) {
      text += `\n\n[${names.length - shownNames.length} more entries not shown (${names.length} in total); use glob with a pattern to narrow down]`;
    }
    return ok(text);
  },
});
