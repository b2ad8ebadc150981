import { afterEach, describe, expect, it } from 'vitest';
import { COMMAND_NAMES, COMMANDS } from '../../protocol/commands.js';
import { TowerError } from '../../protocol/errors.js';
import { memoryManager, type MemoryManager } from '../testing/memory-manager.js';
import { CommandService } from './command-service.js';
import { toErrorBody } from './error-body.js';

let memory: MemoryManager | undefined;
afterEach(async () => {
  await memory?.close();
  memory = undefined;
});

async function service() {
  memory = await memoryManager();
  const { manager } = memory;
  const commands = new CommandService({ manager, models: { list: () => [{ id: 'fake/m', provider: 'fake', name: 'm' }], defaultModel: 'fake/m' } });
  return { manager, commands };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  return p.then(() => 'resolved', (e: unknown) => toErrorBody(e).code);
}

describe('CommandService', () => {
  it('sessions.import refuses an event whose data does not match its type', async () => {
    const { commands, manager } = await service();
    const session = await commands.execute('sessions.create', { title: 'typed' });
    await commands.execute('sessions.send', { session_id: session.id, content: 'hi' });
    expect(await manager.waitIdle(session.id, 2000)).toBe(true);
    const exported = await commands.execute('sessions.export', { session_id: session.id });
    const at = exported.events.findIndex((e) => e.type === 'user_message');
    const events = exported.events.map((e, i) => (i === at ? { ...e, data: { ...e.data, message_index: 'zero' } } : e));
    const err = await commands.execute('sessions.import', { data: { ...exported, events }, as_new: true }).then(() => undefined, (e: unknown) => toErrorBody(e));
    expect(err?.code).toBe('invalid_request');
    expect(err?.issues).toContainEqual(expect.objectContaining({ path: `data.events.${at}.data.message_index` }));
  });

  it('sessions.update with one permissions field keeps the others', async () => {
    const { commands } = await service();
    const session = await commands.execute('sessions.create', { permissions: { allow: ['read'], ask: ['bash'] } });
    const updated = await commands.execute('sessions.update', { session_id: session.id, permissions: { deny: ['write'] } });
    expect(updated.permissions).toEqual({ allow: ['read'], ask: ['bash'], deny: ['write'], policy: 'balanced', auto_approve: false });
    const toggled = await commands.execute('sessions.update', { session_id: session.id, permissions: { auto_approve: true } });
    expect(toggled.permissions).toEqual({ ...updated.permissions, auto_approve: true });
  });

  it('runs a session through create, send, snapshot, export, import as new and delete', async () => {
    const { commands, manager } = await service();
    const session = await commands.execute('sessions.create', { title: 'cmd' });
    const sent = await commands.execute('sessions.send', { session_id: session.id, content: 'hi' });
    expect(sent).toMatchObject({ seq: 2 });
    expect(await manager.waitIdle(session.id, 2000)).toBe(true);
    const snap = await commands.execute('sessions.snapshot', { session_id: session.id });
    expect(snap.messages.map((m) => m.message.role)).toEqual(['user', 'assistant']);
    const exported = await commands.execute('sessions.export', { session_id: session.id });
    expect(await codeOf(commands.execute('sessions.import', { data: exported }))).toBe('conflict');
    const copy = await commands.execute('sessions.import', { data: exported, as_new: true });
    expect(copy.id).not.toBe(session.id);
    expect(copy.title).toBe('cmd');
    expect((await commands.execute('sessions.messages', { session_id: copy.id })).messages).toHaveLength(2);
    expect(await commands.execute('sessions.delete', { session_id: session.id })).toEqual({ deleted: true });
    expect(await codeOf(commands.execute('sessions.get', { session_id: session.id }))).toBe('unknown_session');
    const list = await commands.execute('sessions.list', {});
    expect(list.items.map((s) => s.id)).toEqual([copy.id]);
  });

  it('exports several sessions at once, naming the ids it did not find', async () => {
    const { commands } = await service();
    const a = await commands.execute('sessions.create', { title: 'a' });
    const result = await commands.execute('sessions.batch_export', { ids: [a.id, 'missing'] });
    expect(result.sessions.map((s) => s.session.title)).toEqual(['a']);
    expect(result.missing).toEqual(['missing']);
    expect(await codeOf(commands.execute('sessions.batch_export', { ids: [] }))).toBe('invalid_request');
  });

  it('refuses bad params with invalid_request and issues, changing nothing', async () => {
    const { commands } = await service();
    const junk: Array<[string, unknown]> = [
      ['sessions.send', { content: 'no session id' }],
      ['sessions.send', { session_id: 'x', content: '' }],
      ['sessions.send', { session_id: 'x', content: 'hi', on_busy: 'maybe' }],
      ['sessions.steer', { session_id: 'x', messages: [] }],
      ['sessions.interrupt', { session_id: 'x', clear_queue: 'yes' }],
      ['sessions.create', { unknown_field: 1 }],
      ['sessions.list', { limit: 10_000 }],
      ['confirmations.answer', { session_id: 'x', tool_call_id: 't', decision: 'perhaps' }],
      ['sessions.get', 'not an object'],
      ['sessions.get', [1, 2]],
    ];
    for (const [name, params] of junk) {
      const err = await commands.execute(name as 'sessions.get', params).then(() => undefined, (e: unknown) => e);
      expect(err, `${name} ${JSON.stringify(params)}`).toBeInstanceOf(TowerError);
      const body = toErrorBody(err);
      expect(body.code).toBe('invalid_request');
      expect(body.issues?.length).toBeGreaterThan(0);
    }
    expect((await commands.execute('sessions.list', {})).items).toEqual([]);
  });

  it('refuses an unknown command name', async () => {
    const { commands } = await service();
    expect(await codeOf(commands.execute('sessions.explode' as 'sessions.get', {}))).toBe('invalid_request');
    expect(await codeOf(commands.execute('__proto__' as 'sessions.get', {}))).toBe('invalid_request');
  });

  it('passes domain errors through with their codes', async () => {
    const { commands } = await service();
    expect(await codeOf(commands.execute('sessions.steer', { session_id: 'none', messages: [{ content: 'x' }] }))).toBe('unknown_session');
    expect(await codeOf(commands.execute('sessions.create', { model: 'other/x' }))).toBe('unknown_model');
    const s = await commands.execute('sessions.create', {});
    expect(await codeOf(commands.execute('sessions.steer', { session_id: s.id, messages: [{ content: 'x' }] }))).toBe('session_idle');
    expect(await codeOf(commands.execute('sessions.set_model', { session_id: s.id, model: 'other/x' }))).toBe('unknown_model');
  });

  it('has a params and a result schema for every command', () => {
    expect(COMMAND_NAMES.length).toBeGreaterThan(20);
    for (const name of COMMAND_NAMES) {
      expect(COMMANDS[name].params, name).toBeDefined();
      expect(COMMANDS[name].result, name).toBeDefined();
    }
  });

  it('turns anything that is not a TowerError into a generic internal error', () => {
    expect(toErrorBody(new Error('secret path /root/x'))).toEqual({ code: 'internal', message: 'Internal error' });
    expect(toErrorBody('boom')).toEqual({ code: 'internal', message: 'Internal error' });
  });
});
