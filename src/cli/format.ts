import type { Session } from '../protocol/index.js';
import type { Colors } from './color.js';
import { truncate } from './tool-lines.js';

/** `950`, `12.3k`, `4.5M`: token counts at a glance. */
export function formatCount(n: number): string {
  if (n < 1_000) return String(n);
  if (n < 1_000_000) return `${trimZero((n / 1_000).toFixed(1))}k`;
  return `${trimZero((n / 1_000_000).toFixed(1))}M`;
}

function trimZero(text: string): string {
  return text.endsWith('.0') ? text.slice(0, -2) : text;
}

/** `just now`, `5m ago`, `3h ago`, `2d ago`; the date itself past 30 days. */
export function formatAge(iso: string, now: number): string {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  const seconds = Math.max(0, Math.round((now - time) / 1000));
  if (seconds < 60) return 'just now';
  if (seconds < 3_600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3_600)}h ago`;
  if (seconds < 30 * 86_400) return `${Math.floor(seconds / 86_400)}d ago`;
  return iso.slice(0, 10);
}

export function formatCost(cost: number): string {
  return `$${cost < 1 ? cost.toFixed(4) : cost.toFixed(2)}`;
}

/** Left-aligned columns separated by two spaces; the header dimmed. The last column is not padded. */
export function formatTable(c: Colors, headers: string[], rows: string[][]): string {
  const widths = headers.map((header, i) => Math.max(width(header), ...rows.map((row) => width(row[i] ?? ''))));
  const render = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - width(cell))))
      .join('  ')
      .trimEnd();
  return [c.dim(render(headers)), ...rows.map(render)].map((line) => `${line}\n`).join('');
}

function width(text: string): number {
  return Array.from(text).length;
}

const TITLE_WIDTH = 40;

export function sessionTable(c: Colors, sessions: Session[], now: number): string {
  const rows = sessions.map((s) => [
    s.id,
    truncate(s.title.replace(/\s+/g, ' '), TITLE_WIDTH),
    s.model,
    String(s.message_count),
    formatCount(s.input_tokens + s.output_tokens),
    formatAge(s.updated_at, now),
  ]);
  return formatTable(c, ['ID', 'TITLE', 'MODEL', 'MESSAGES', 'TOKENS', 'UPDATED'], rows);
}

/** `sessions show`: one field per line, names dimmed. */
export function sessionFields(c: Colors, s: Session, now: number): string {
  const fields: Array<[string, string]> = [
    ['id', s.id],
    ['title', s.title],
    ['model', s.model],
    ['dir', s.working_dir],
    ['status', s.status],
    ['starred', s.starred ? 'yes' : 'no'],
    ['messages', String(s.message_count)],
    ['tokens', `${formatCount(s.input_tokens)} in · ${formatCount(s.output_tokens)} out`],
    ['cost', formatCost(s.cost)],
    ['created', `${s.created_at} (${formatAge(s.created_at, now)})`],
    ['updated', `${s.updated_at} (${formatAge(s.updated_at, now)})`],
  ];
  const pad = Math.max(...fields.map(([name]) => name.length));
  return fields.map(([name, value]) => `${c.dim(name.padEnd(pad))}  ${value}\n`).join('');
}
