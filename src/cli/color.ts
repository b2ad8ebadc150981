/** Minimal ANSI styling. Off unless the stream is a TTY and `NO_COLOR` is unset (https://no-color.org). */

export interface Colors {
  enabled: boolean;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

function style(enabled: boolean, open: number, close: number): (text: string) => string {
  return enabled ? (text) => `\u001b[${open}m${text}\u001b[${close}m` : (text) => text;
}

export function createColors(enabled: boolean): Colors {
  return {
    enabled,
    red: style(enabled, 31, 39),
    green: style(enabled, 32, 39),
    yellow: style(enabled, 33, 39),
    cyan: style(enabled, 36, 39),
    dim: style(enabled, 2, 22),
    bold: style(enabled, 1, 22),
  };
}

/** Colours for one output stream: a TTY, and no `NO_COLOR` (any non-empty value turns colour off). */
export function colorsFor(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): Colors {
  return createColors(stream.isTTY === true && !env.NO_COLOR);
}
