import type { ZodError } from 'zod';
import type { ErrorBody } from '../../protocol/api.js';
import { isTowerError } from '../../protocol/errors.js';

export type ErrorIssues = NonNullable<ErrorBody['issues']>;

export function issuesOf(error: ZodError): ErrorIssues {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
}

/**
 * The one translation of a thrown value into the `{code, message, issues?}` every transport sends
 * (HTTP body, hub `error`/`reply`, JSON-RPC `error.data`). Anything that is not a `TowerError` is a bug on
 * our side: it becomes `internal` with a generic message, so no stack or secret leaks to a client.
 */
export function toErrorBody(err: unknown): ErrorBody {
  if (!isTowerError(err)) return { code: 'internal', message: 'Internal error' };
  const body: ErrorBody = { code: err.code, message: err.message };
  const issues = issuesFromDetails(err.details);
  if (issues) body.issues = issues;
  return body;
}

function issuesFromDetails(details: unknown): ErrorIssues | undefined {
  if (typeof details !== 'object' || details === null || !('issues' in details)) return undefined;
  const issues = (details as { issues: unknown }).issues;
  return Array.isArray(issues) ? (issues as ErrorIssues) : undefined;
}
