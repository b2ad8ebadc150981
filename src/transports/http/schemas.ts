import { z } from 'zod';
import { ErrorBody } from '../../protocol/api.js';

/** Path and response pieces shared by the route files. */
export const SessionIdParams = z.object({ id: z.string().min(1).max(200) });

export const errorResponses = {
  400: { description: 'Invalid request', content: { 'application/json': { schema: ErrorBody } } },
  401: { description: 'Missing or wrong token', content: { 'application/json': { schema: ErrorBody } } },
  404: { description: 'Unknown session', content: { 'application/json': { schema: ErrorBody } } },
} as const;

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});
