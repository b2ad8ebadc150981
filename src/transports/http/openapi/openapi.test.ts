import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { validate } from '@readme/openapi-parser';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metrics } from '../../../core/metrics/index.js';
import { EVENT_TYPES } from '../../../protocol/events.js';
import { memoryHttp, type MemoryHttp } from '../testing.js';
import { eventSchemaName } from './events.js';

interface Operation {
  operationId?: string;
  security?: Array<Record<string, string[]>>;
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}
interface Doc {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
  security: unknown[];
}

let app: MemoryHttp;
let doc: Doc;
beforeAll(async () => {
  app = await memoryHttp({ token: 'openapi-test-token-0123456789', metrics: new Metrics({ processMetrics: false }) });
  const res = await app.http.request('/openapi.json', { headers: { authorization: 'Bearer openapi-test-token-0123456789' } });
  doc = (await res.json()) as Doc;
});
afterAll(() => app.close());

const operations = (): Array<[string, string, Operation]> =>
  Object.entries(doc.paths).flatMap(([p, ops]) => Object.entries(ops).map(([m, op]): [string, string, Operation] => [p, m, op]));

describe('the OpenAPI document', () => {
  it('is valid OpenAPI', async () => {
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid ? [] : result.errors, JSON.stringify(result)).toEqual([]);
    // The validator does reject a broken document (a reference to a schema that is not there).
    const broken = structuredClone(doc);
    broken.paths['/api/sessions']!.post!.responses['201']!.content!['application/json']!.schema = { $ref: '#/components/schemas/Nope' };
    expect((await validate(broken as never)).valid).toBe(false);
  });

  it('lists every route the app serves, each with a unique operationId', () => {
    const served = new Set(
      app.http.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`),
    );
    expect(served.size).toBeGreaterThan(25);
    for (const route of served) {
      const [method, p] = route.split(' ') as [string, string];
      expect(doc.paths[p]?.[method]?.operationId, route).toBeTruthy();
    }
    const ids = operations().map(([, , op]) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(['sessions.create', 'sessions.send', 'sessions.events', 'sessions.interrupt', 'meta.metrics']));
  });

  it('asks for the bearer token everywhere except liveness and readiness', () => {
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const [p, m, op] of operations()) {
      const open = p === '/health' || p === '/ready';
      expect(op.security, `${m} ${p}`).toEqual(open ? [] : [{ bearer: [] }]);
    }
  });

  it('names the shared types as components and references them', () => {
    const names = Object.keys(doc.components.schemas);
    for (const name of ['Session', 'ErrorBody', 'QueueState', 'SessionEvent', 'Snapshot', 'SessionExport', ...EVENT_TYPES.map(eventSchemaName)]) {
      expect(names, name).toContain(name);
    }
    const created = doc.paths['/api/sessions']!.post!.responses['201']!.content!['application/json']!.schema;
    expect(created).toEqual({ $ref: '#/components/schemas/Session' });
  });

  it('declares every body, the optional interrupt body and the event stream content', () => {
    const interrupt = doc.paths['/api/sessions/{id}/interrupt']!.post!;
    expect(interrupt.requestBody).toMatchObject({ required: false, content: { 'application/json': { schema: { $ref: '#/components/schemas/InterruptBody' } } } });
    for (const [p, m, op] of operations()) {
      if (m === 'post' && !p.endsWith('/toggle')) expect(op.requestBody, `${m} ${p}`).toBeDefined();
      if (m === 'patch') expect(op.requestBody, `${m} ${p}`).toBeDefined();
    }
    const events = doc.paths['/api/sessions/{id}/events']!.get!.responses['200']!.content!;
    expect(events['text/event-stream']).toEqual({ schema: { $ref: '#/components/schemas/SessionEvent' } });
  });
});

const CLIENT = `
import type { components, operations } from './api.js';

type Session = components['schemas']['Session'];
type SessionEvent = components['schemas']['SessionEvent'];
type CreateBody = NonNullable<operations['sessions.create']['requestBody']>['content']['application/json'];
type Created = operations['sessions.create']['responses'][201]['content']['application/json'];
type InterruptBody = NonNullable<operations['sessions.interrupt']['requestBody']>['content']['application/json'];
type Queue = operations['sessions.queue']['responses'][200]['content']['application/json'];
type Failure = operations['sessions.send']['responses'][409]['content']['application/json'];

export const body: CreateBody = { title: 'typed', permissions: { policy: 'strict' } };
export const interrupt: InterruptBody = { clear_queue: true };
export const title = (s: Created): string => s.title;
export const sameAsSession = (s: Created): Session => s;
export const depth = (q: Queue): number => q.steer.depth + q.followup.depth;
export const code = (e: Failure): string => e.code;

export function describe(e: SessionEvent): string {
  switch (e.type) {
    case 'user_message':
      return e.content;
    case 'stream_stopped':
      return e.reason;
    case 'tool_call_output':
      return e.stream + e.data;
    default:
      return \`\${e.type} #\${e.seq}\`;
  }
}
`;

// Written against the same types, wrong on purpose: proves the check can fail.
const WRONG = `
import type { components, operations } from './api.js';
export const s: components['schemas']['Session'] = { id: 1 };
export const i: NonNullable<operations['sessions.interrupt']['requestBody']>['content']['application/json'] = { clear_queue: 'yes' };
`;

describe('a typed client generated from the document', () => {
  it('type-checks against the generated types, and a wrong client does not', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tower-openapi-'));
    try {
      const types = astToString(await openapiTS(structuredClone(doc) as never));
      expect(types).not.toContain('schemas: never');
      writeFileSync(path.join(dir, 'api.ts'), types);
      writeFileSync(path.join(dir, 'client.ts'), CLIENT);
      writeFileSync(path.join(dir, 'wrong.ts'), WRONG);
      writeFileSync(
        path.join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', types: [], skipLibCheck: true },
          files: ['api.ts', 'client.ts', 'wrong.ts'],
        }),
      );
      const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
      const out = await promisify(execFile)(process.execPath, [tsc, '-p', dir], { cwd: dir }).then(
        (r) => r.stdout,
        (e: { stdout?: string }) => e.stdout ?? String(e),
      );
      const errors = out.split('\n').filter((l) => /error TS/.test(l));
      expect(errors.filter((l) => !l.startsWith('wrong.ts')), out).toEqual([]);
      expect(errors.filter((l) => l.startsWith('wrong.ts')).length, out).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
