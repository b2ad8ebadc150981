import { z } from 'zod';
import { ErrorBody } from '../../protocol/api.js';

/** Path and response pieces shared by the route files. */
export const SessionIdParams = z.object({ id: z.string().min(1).max(200) });

/** Operations that need the bearer token (everything but liveness and readiness). */
export const BEARER = [{ bearer: [] }];

const error = (description: string) => ({ description, content: { 'application/json': { schema: ErrorBody } } });

export const errorResponses = {
  400: error('Invalid request (invalid_request, with the zod issues)'),
  401: error('Missing or wrong token (unauthorized)'),
  404: error('Unknown session (unknown_session)'),
} as const;

/** Extra answers of operations that take a JSON body. */
export const bodyErrorResponses = {
  413: error('Request body over 1 MiB (payload_too_large)'),
  415: error('The body is not sent as application/json (unsupported_media_type)'),
} as const;

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

/** A body that may be left out entirely (an empty POST); when sent, it must be JSON of this shape. */
export const optionalJsonBody = <T extends z.ZodType>(schema: T) => ({
  required: false,
  content: { 'application/json': { schema } },
});

/** `?flag=true|false|1|0`, as a boolean. */
export const BooleanQuery = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1');

const DegradedTransport = z.object({ transport: z.string(), code: z.string(), reason: z.string(), since: z.string().optional() });

/** `/health`: alive (always 200); `degraded` lists transports that are down (absent when none is). */
export const HealthBody = z.object({ status: z.literal('ok'), version: z.string(), degraded: z.array(DegradedTransport).optional() });

/**
 * `/ready`: 200 with `ready: true` once Tower serves; 503 with the reason until then, and once started a
 * stable `code` (`shutting_down`, `store_unavailable`, or `transport_down` with `degraded` naming them).
 */
export const ReadyBody = z.object({
  ready: z.boolean(),
  reason: z.string().optional(),
  code: z.string().optional(),
  degraded: z.array(DegradedTransport).optional(),
  version: z.string(),
});
export type ReadyBody = z.infer<typeof ReadyBody>;
