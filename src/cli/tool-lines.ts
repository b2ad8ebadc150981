import type { Colors } from './color.js';

/** Argument names worth showing on their own when a tool call has several, most telling first. */
const PRIMARY_ARGS = ['command', 'cmd', 'pattern', 'query', 'url', 'path', 'file_path', 'file', 'message'];
const ARGS_WIDTH = 80;
const RESULT_WIDTH = 100;

/** One line for a tool call's arguments: the main argument's value, else compact JSON. */
export function summarizeArgs(args: unknown): string {
  if (args === undefined || args === null) return '';
  let text: string;
  if (typeof args !== 'object') {
    text = String(args);
  } else {
    const record = args as Record<string, unknown>;
    const keys = Object.keys(record);
    const primary = keys.length === 1 ? keys[0] : PRIMARY_ARGS.find((key) => typeof record[key] === 'string');
    const value = primary === undefined ? undefined : record[primary];
    text = typeof value === 'string' ? value : JSON.stringify(args);
  }
  return truncate(oneLine(text), ARGS_WIDTH);
}

/** The first non-blank line of a tool result, shortened to fit a terminal line. */
export function firstLine(text: string): string {
  const line = text.split(/\r\n|\r|\n/).find((candidate) => candidate.trim() !== '') ?? '';
  return truncate(line.trim(), RESULT_WIDTH);
}

export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** `⚙ bash ls -la` */
export function formatToolCall(c: Colors, tool: string, args: unknown): string {
  const summary = summarizeArgs(args);
  return `${c.yellow('⚙')} ${c.bold(tool)}${summary ? ` ${summary}` : ''}`;
}

/** Results of at most this many lines are shown in full under their summary. */
const PREVIEW_LINES = 4;
const PREVIEW_INDENT = '    ';

export interface ToolResultLine {
  tool: string;
  isError: boolean;
  result: string;
  /** Name the tool on the line (a result printed away from its call line): `✓ bash: …`. */
  labeled?: boolean;
}

/** What a result says in a few words: `17 entries`, `2 lines, exit 0`, or its only line. */
export function summarizeResult(tool: string, result: string, isError = false): { summary: string; lines: string[] } {
  // Blank lines at either end say nothing and would only be counted.
  let body = result.replace(/\s+$/, '').replace(/^(?:[ \t]*(?:\r\n|\r|\n))+/, '');
  let exit: string | undefined;
  // bash ends its result with `exit code N` on a line of its own.
  const exitMatch = /(?:^|\n)exit code (\d+)$/.exec(body);
  if (tool === 'bash' && exitMatch) {
    exit = exitMatch[1];
    body = body.slice(0, exitMatch.index).replace(/\s+$/, '');
    if (body === '(no output)') body = '';
  }
  const lines = body === '' ? [] : body.split(/\r\n|\r|\n/);
  if (exit !== undefined) {
    const count = lines.length === 0 ? 'no output' : plural(lines.length, 'line');
    return { summary: `${count}, exit ${exit}`, lines };
  }
  if (tool === 'list' && lines.length > 0 && !/^\(.* is empty\)$/.test(body)) {
    // A long listing ends with `[N more entries not shown (T in total); …]` after a blank line.
    const total = /\((\d+) in total\)/.exec(lines.at(-1) ?? '');
    const entries = total ? Number(total[1]) : lines.filter((line) => line.trim() !== '').length;
    return { summary: plural(entries, 'entry', 'entries'), lines };
  }
  if (lines.filter((line) => line.trim() !== '').length <= 1) return { summary: firstLine(body), lines: [] };
  // An error's first line is its message; the rest (a stack, details) follows when short.
  if (isError) return { summary: firstLine(body), lines: lines.slice(1) };
  return { summary: plural(lines.length, 'line'), lines };
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * `✓ 2 lines, exit 0` (in red `✗ …` for an error), followed by the result's lines, indented, when it has
 * only a few. With `labeled`: `✓ bash: …`. Several lines of text, without a final newline.
 */
export function formatToolResult(c: Colors, { tool, isError, result, labeled }: ToolResultLine): string {
  const { summary, lines } = summarizeResult(tool, result, isError);
  const label = labeled ? ` ${tool}:` : '';
  const head = isError
    ? c.red(`✗${label}${summary ? ` ${summary}` : ''}`)
    : `${c.green('✓')}${label ? c.bold(label) : ''}${summary ? ` ${c.dim(summary)}` : ''}`;
  if (lines.length === 0 || lines.length > PREVIEW_LINES) return head;
  const preview = lines.map((line) => `${PREVIEW_INDENT}${truncate(line.trimEnd(), RESULT_WIDTH)}`);
  return [head, ...preview.map((line) => (isError ? c.red(line) : c.dim(line)))].join('\n');
}
