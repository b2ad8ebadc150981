import type { Child } from './proc.js';

/**
 * A fan-out rig's start: the server listens, Tower gets one session (the bare server serves its own
 * `/events`), `subscribers` clients connect to it and the first event has reached them all. Shared by
 * fanout-sse.ts and its trace probe (fanout-sse-trace.ts), so both measure the same set-up.
 */
export async function connectSseSubscribers(
  kind: 'tower' | 'bare',
  server: Child,
  clients: Child,
  subscribers: number,
): Promise<{ sessionId: string; port: number }> {
  const { port } = await server.request<{ port: number }>({ type: 'init' });
  let path = '/events?since=1';
  let sessionId = '';
  if (kind === 'tower') {
    sessionId = (await server.request<{ ids: string[] }>({ type: 'create', n: 1 })).ids[0]!;
    path = `/api/sessions/${sessionId}/events?since=0`;
  }
  await clients.request({ type: 'connect', host: '127.0.0.1', port, paths: Array<string>(subscribers).fill(path) });
  await clients.request({ type: 'waitSeq', target: 1, timeoutMs: 10_000 });
  return { sessionId, port };
}
