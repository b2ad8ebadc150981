/**
 * Shape limits for JSON that crosses an edge (request bodies, imports, model tool arguments). Deeply
 * nested values overflow recursive serialisers and parsers downstream; they are refused where they enter.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * True if `value` nests objects/arrays deeper than `max` levels. Iterative, so the check itself cannot
 * overflow the stack on the input it exists to refuse; stops at the first too-deep branch.
 */
export function exceedsJsonDepth(value: unknown, max: number = MAX_JSON_DEPTH): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) return true;
    const children = Array.isArray(v) ? v : Object.values(v as Record<string, unknown>);
    for (const child of children) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

/** True if every string anywhere in `value` (keys included) is well-formed UTF-16: no lone surrogates. */
export function allStringsWellFormed(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (!isWellFormed(v)) return false;
    } else if (v !== null && typeof v === 'object') {
      if (Array.isArray(v)) stack.push(...v);
      else
        for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
          if (!isWellFormed(k)) return false;
          stack.push(child);
        }
    }
  }
  return true;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isWellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}
