import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Publisher, Router } from 'zeromq';
import { encodePublication, rfc3339Nano } from '../../src/protocol/pando-bus.js';

export interface FakePandoSession {
  id: string;
  title: string;
  updated_at: string;
  message_count: number;
  messages: Array<{ id: string; role: string; content: string; created_at: string }>;
}

/**
 * A stand-in for a Pando instance, framed and behaving as Pando's source does (PROTOCOLS.md section 1):
 * a registry file, a PUB socket and a ROUTER answering the five methods Pando implements; message.send
 * and session.interrupt answer -32000 "agent runner not available", state.sync and instance.info answer
 * -32601. Its heartbeats carry two different instance ids, as Pando's do.
 */
export class FakePando {
  readonly instanceId = randomUUID();
  readonly sessions = new Map<string, FakePandoSession>();
  readonly requests: unknown[] = [];
  private readonly pub = new Publisher({ linger: 0 });
  private readonly router = new Router({ linger: 0 });
  private heartbeat: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  pubPort = 0;
  rpcPort = 0;
  registryFile = '';

  static async start(opts: { registryDir: string; workdir: string; heartbeatMs?: number }): Promise<FakePando> {
    const p = new FakePando();
    await p.pub.bind('tcp://127.0.0.1:*');
    await p.router.bind('tcp://127.0.0.1:*');
    p.pubPort = Number(p.pub.lastEndpoint!.split(':').at(-1));
    p.rpcPort = Number(p.router.lastEndpoint!.split(':').at(-1));
    mkdirSync(opts.registryDir, { recursive: true });
    p.registryFile = path.join(opts.registryDir, `${p.instanceId}.json`);
    writeFileSync(p.registryFile, JSON.stringify({
      instance_id: p.instanceId, path: opts.workdir, pid: process.pid, pub_port: p.pubPort, rpc_port: p.rpcPort,
      started_at: new Date().toISOString(), mode: 'tui', is_primary: true,
    }));
    p.loop = p.serve();
    p.heartbeat = setInterval(() => {
      for (const id of [p.instanceId, randomUUID()]) p.publish('instance.heartbeat', { instance_id: id, session_count: p.sessions.size, uptime: '1s', started_at: new Date().toISOString() }, id);
    }, opts.heartbeatMs ?? 5000);
    return p;
  }

  addSession(title: string, messages: string[] = []): FakePandoSession {
    const now = new Date().toISOString();
    const s: FakePandoSession = {
      id: randomUUID(), title, updated_at: now, message_count: messages.length,
      messages: messages.map((content, i) => ({ id: `m${i}`, role: i % 2 ? 'assistant' : 'user', content, created_at: now })),
    };
    this.sessions.set(s.id, s);
    this.publish('session.update', this.payload(s), this.instanceId, s.id);
    return s;
  }

  payload(s: FakePandoSession) {
    return { id: s.id, title: s.title, updated_at: s.updated_at, message_count: s.message_count };
  }

  publish(topic: string, payload: unknown, instanceId = this.instanceId, sessionId?: string): void {
    void this.pub.send(encodePublication({ instanceId, projectId: '', ...(sessionId ? { sessionId } : {}), topic, timestamp: rfc3339Nano(), payload }));
  }

  private async serve(): Promise<void> {
    try {
      for await (const frames of this.router) {
        const identity = frames[0]!;
        let req: { id?: unknown; method?: string; params?: { session_id?: string } | null };
        try {
          req = JSON.parse(frames.at(-1)!.toString());
        } catch {
          await this.reply(identity, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } });
          continue;
        }
        this.requests.push(req);
        await this.reply(identity, { jsonrpc: '2.0', id: req.id, ...this.answer(req) });
      }
    } catch {
      // closed
    }
  }

  private answer(req: { method?: string; params?: { session_id?: string } | null }): object {
    const sid = req.params?.session_id ?? '';
    const session = this.sessions.get(sid);
    switch (req.method) {
      case 'instance.ping':
        return { result: { status: 'ok', instance_id: this.instanceId, uptime: '1m0s' } };
      case 'session.list':
        return { result: [...this.sessions.values()].map((s) => this.payload(s)) };
      case 'session.get':
        return session ? { result: this.payload(session) } : { error: { code: -32000, message: 'session.get: not found' } };
      case 'session.activate':
        if (!session) return { error: { code: -32000, message: 'session.activate: not found' } };
        this.publish('session.activated', this.payload(session), this.instanceId, sid);
        return { result: { ok: true } };
      case 'message.list':
        return session ? { result: session.messages } : { error: { code: -32000, message: 'message.list: not found' } };
      case 'message.send':
      case 'session.interrupt':
        return { error: { code: -32000, message: 'agent runner not available' } };
      default:
        return { error: { code: -32601, message: 'ipc: method not found' } };
    }
  }

  private async reply(identity: Buffer, body: object): Promise<void> {
    await this.router.send([identity, Buffer.alloc(0), JSON.stringify(body)]);
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    rmSync(this.registryFile, { force: true });
    this.router.close();
    this.pub.close();
    await this.loop;
  }
}
