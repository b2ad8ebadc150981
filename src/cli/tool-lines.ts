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

/**
 * `✓ first line of the result`, or in red `✗ first line of the error`. With `tool` (a result printed
 * away from its call line): `✓ bash: first line`.
 */
export function formatToolResult(c: Colors, isError: boolean, result: string, tool?: string): string {
  const line = firstLine(result);
  const label = tool === undefined ? '' : ` ${tool}:`;
  if (isError) return c.red(`✗${label}${line ? ` ${line}` : ''}`);
  return `${c.green('✓')}${label ? c.bold(label) : ''}${line ? ` ${c.dim(line)}` : ''}`;
}
