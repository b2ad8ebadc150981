import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { CreateRunnerTokenBody, CreatedRunnerToken, RevokedRunnerToken, RunnerList, RunnerTokenList, RunnerView } from '../../../protocol/runner-api.js';
import type { HttpDeps } from '../deps.js';
import { BEARER, errorResponses, json, jsonBody } from '../schemas.js';

/** Adapters from HTTP to the runner commands (tokens and the runners the gateway knows). */

const tags = ['runners'];
const security = BEARER;
const Id = z.string().min(1).max(200);

const routes = {
  createToken: createRoute({
    method: 'post', path: '/api/runners/tokens', tags, security, operationId: 'runners.tokens.create',
    summary: 'Create a runner token (shown once, in this answer only)',
    request: { body: jsonBody(CreateRunnerTokenBody) },
    responses: { 201: json(CreatedRunnerToken, 'Created'), ...errorResponses },
  }),
  listTokens: createRoute({
    method: 'get', path: '/api/runners/tokens', tags, security, operationId: 'runners.tokens.list',
    summary: 'Runner tokens, revoked ones included (never the tokens themselves)',
    responses: { 200: json(RunnerTokenList, 'The tokens'), ...errorResponses },
  }),
  revokeToken: createRoute({
    method: 'delete', path: '/api/runners/tokens/{id}', tags, security, operationId: 'runners.tokens.revoke',
    summary: "Revoke a runner token; its live runner is disconnected at once",
    request: { params: z.object({ id: Id }) },
    responses: { 200: json(RevokedRunnerToken, 'Revoked'), ...errorResponses },
  }),
  list: createRoute({
    method: 'get', path: '/api/runners', tags, security, operationId: 'runners.list',
    summary: 'Runners this server has seen, online or offline',
    responses: { 200: json(RunnerList, 'The runners'), ...errorResponses },
  }),
  get: createRoute({
    method: 'get', path: '/api/runners/{id}', tags, security, operationId: 'runners.get',
    summary: 'One runner: status, environment, metrics, running tasks',
    request: { params: z.object({ id: Id }) },
    responses: { 200: json(RunnerView, 'The runner'), ...errorResponses },
  }),
};

export function registerRunnerRoutes(app: OpenAPIHono, { commands }: HttpDeps): void {
  app.openapi(routes.createToken, async (c) => c.json(await commands.execute('runners.tokens.create', c.req.valid('json')), 201));
  app.openapi(routes.listTokens, async (c) => c.json(await commands.execute('runners.tokens.list', {}), 200));
  app.openapi(routes.revokeToken, async (c) => c.json(await commands.execute('runners.tokens.revoke', { token_id: c.req.valid('param').id }), 200));
  app.openapi(routes.list, async (c) => c.json(await commands.execute('runners.list', {}), 200));
  app.openapi(routes.get, async (c) => c.json(await commands.execute('runners.get', { runner_id: c.req.valid('param').id }), 200));
}
