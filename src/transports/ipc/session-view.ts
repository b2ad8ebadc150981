import type { CommandService } from '../../core/commands/index.js';
import type { Session } from '../../protocol/session.js';

export { toMessagePayload, toMessagePayloads, toSessionPayload } from '../../protocol/pando-mapping.js';

/** Every session, newest first, reading the list page by page through the command layer. */
export async function allSessions(commands: CommandService): Promise<Session[]> {
  const out: Session[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await commands.execute('sessions.list', cursor === undefined ? { limit: 200 } : { limit: 200, cursor });
    out.push(...page.items);
    if (!page.next_cursor || page.items.length === 0) return out;
    cursor = page.next_cursor;
  }
}
