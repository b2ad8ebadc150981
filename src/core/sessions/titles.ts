const MAX_TITLE = 60;

/** The title used when the model gives none: the first user message, on one line, cut short. */
export function fallbackTitle(firstMessage: string): string {
  const line = firstMessage.replace(/\s+/g, ' ').trim();
  if (line.length <= MAX_TITLE) return line || 'Untitled session';
  const cut = line.slice(0, MAX_TITLE - 1);
  const space = cut.lastIndexOf(' ');
  return `${space > MAX_TITLE / 2 ? cut.slice(0, space) : cut}…`;
}
