import { z } from 'zod';
import { allStringsWellFormed, isWellFormed } from './limits.js';

const INVALID_UNICODE = 'must be valid Unicode text (no lone surrogates)';

/**
 * A string of a request body. Lone surrogates are refused at the edge: stored, they would come back as
 * replacement characters (SQLite and every UTF-8 hop re-encode them), so what a client reads would
 * differ from what it wrote.
 */
export const text = (): z.ZodString => z.string().refine(isWellFormed, INVALID_UNICODE);

/** The same rule for every string nested anywhere in a body part (permissions, answers, event data). */
export function refineWellFormed(value: unknown, ctx: z.RefinementCtx): void {
  if (!allStringsWellFormed(value)) ctx.addIssue({ code: 'custom', message: INVALID_UNICODE });
}
