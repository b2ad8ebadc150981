import { TowerApiError, TowerConnectionError, TowerProtocolError } from '../client/index.js';
import type { Colors } from './color.js';

export { UsageError } from './usage-error.js';

/** What to do about an error code, where the code alone says it. */
const HINTS: Record<string, string> = {
  unauthorized: 'pass the server token with --token or TOWER_TOKEN',
  session_busy: 'a turn is running: send with --on-busy enqueue (after it) or --on-busy interrupt, or `tower steer` it',
  session_idle: 'no turn is running: use `tower send` instead',
  unknown_model: '`tower model <session>` lists the models',
};

/** The stderr text for a failed command: one `error:` line, plus a hint where one helps. */
export function formatError(c: Colors, error: unknown): string {
  const lines: string[] = [];
  if (error instanceof TowerApiError) {
    lines.push(`${c.red('error:')} ${error.message} (${error.code})`);
    for (const issue of error.issues ?? []) lines.push(`  ${issue.path || '(body)'}: ${issue.message}`);
    const hint = HINTS[error.code];
    if (hint !== undefined) lines.push(c.dim(`hint: ${hint}`));
    if (error.retryAfterSeconds !== undefined) lines.push(c.dim(`hint: retry in ${error.retryAfterSeconds} s`));
  } else if (error instanceof TowerConnectionError) {
    const what =
      error.errno === 'ECONNREFUSED'
        ? `Tower is not running at ${error.url} (connection refused)`
        : error.message;
    lines.push(`${c.red('error:')} ${what}`);
    lines.push(c.dim('hint: start it with `npx tower serve` (`npm start` in the Tower project), or point --url / TOWER_URL at a running Tower'));
  } else if (error instanceof TowerProtocolError) {
    lines.push(`${c.red('error:')} unexpected answer from the server: ${error.message}`);
    lines.push(c.dim('hint: is --url a Tower server of the same version as this CLI?'));
  } else {
    lines.push(`${c.red('error:')} ${error instanceof Error ? error.message : String(error)}`);
  }
  return lines.map((line) => `${line}\n`).join('');
}
