import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { CreateSessionBody, UpdateSessionBody } from '../../protocol/api.js';
import { TowerError } from '../../protocol/errors.js';
import type { NewEvent } from '../../protocol/events.js';
import { restoreMcpSecrets, withRedactedMcp } from '../../protocol/mcp-secrets.js';
import { Permissions, type SessionSettings } from '../../protocol/session.js';
import type { SessionRecord } from '../../store/types.js';
import type { AppendEffects } from '../event-log/index.js';
import { newSessionId } from '../ids.js';
import { validatePermissions } from '../permissions/index.js';
import type { SessionDefaults } from './deps.js';

/** A new session's row from a create request and the server's defaults. Validates working dir and rules. */
export async function buildSessionRecord(body: CreateSessionBody, defaults: SessionDefaults): Promise<SessionRecord> {
  const workingDir = await resolveWorkingDir(body.working_dir ?? defaults.workingDir);
  const permissions = Permissions.parse({ ...defaults.permissions, ...body.permissions });
  validatePermissions(permissions);
  const now = new Date().toISOString();
  return {
    id: newSessionId(),
    title: body.title ?? '',
    created_at: now,
    updated_at: now,
    working_dir: workingDir,
    model: body.model ?? defaults.model,
    permissions,
    starred: false,
    ...(body.sandbox !== undefined ? { sandbox: body.sandbox } : {}),
    ...(body.network !== undefined ? { network: body.network } : {}),
    ...(body.mcp !== undefined ? { mcp: body.mcp } : {}),
    input_tokens: 0,
    output_tokens: 0,
    cost: 0,
    message_count: 0,
    last_event_seq: 0,
    ...(body.runner ? { runner: body.runner } : {}),
  };
}

export interface UpdatePlan {
  events: Array<{ event: NewEvent; effects: AppendEffects }>;
  model?: string;
  permissions?: Permissions;
  settings?: SessionSettings;
}

/** The executor settings a session carries (absent fields: the server's config decides). */
export function settingsOf(record: SessionRecord): SessionSettings {
  return {
    ...(record.sandbox !== undefined ? { sandbox: record.sandbox } : {}),
    ...(record.network !== undefined ? { network: record.network } : {}),
    ...(record.mcp !== undefined ? { mcp: record.mcp } : {}),
  };
}

/**
 * The events an update appends: `session_updated` for title and star, `model_changed` for a model
 * switch, `permissions_changed` for rules. Each carries its own session patch, so the row and the log
 * move together. `livePermissions` (a running turn's copy, which approvals may have changed) is the base
 * for a permissions change when given.
 */
export function planUpdate(current: SessionRecord, body: UpdateSessionBody, livePermissions?: Permissions): UpdatePlan {
  const plan: UpdatePlan = { events: [] };
  const changed = {
    ...(body.title !== undefined ? { title: body.title } : {}),
    ...(body.starred !== undefined ? { starred: body.starred } : {}),
    ...(body.runner !== undefined ? { runner: body.runner } : {}),
  };
  if (Object.keys(changed).length) {
    plan.events.push({ event: { type: 'session_updated', data: changed }, effects: { session: changed } });
  }
  if (body.sandbox !== undefined || body.network !== undefined || body.mcp !== undefined) {
    // Sandbox and network apply from the next tool call (the executor reads them per call), MCP servers
    // from the next turn (their tools are listed when a turn starts).
    const settings = {
      ...settingsOf(current),
      ...(body.sandbox !== undefined ? { sandbox: body.sandbox } : {}),
      ...(body.network !== undefined ? { network: body.network } : {}),
      // A value sent back as the redaction marker keeps the stored secret.
      ...(body.mcp !== undefined ? { mcp: restoreMcpSecrets(body.mcp, current.mcp) } : {}),
    };
    plan.settings = settings;
    // The row gets the secrets; the event (read by every subscriber) only their keys.
    plan.events.push({ event: { type: 'session_updated', data: withRedactedMcp(settings) }, effects: { session: { settings } } });
  }
  if (body.model !== undefined && body.model !== current.model) {
    plan.model = body.model;
    plan.events.push({
      event: { type: 'model_changed', data: { model: body.model, previous: current.model } },
      effects: { session: { model: body.model } },
    });
  }
  if (body.permissions) {
    const permissions = Permissions.parse({ ...(livePermissions ?? current.permissions), ...body.permissions });
    validatePermissions(permissions);
    plan.permissions = permissions;
    plan.events.push({ event: { type: 'permissions_changed', data: { permissions } }, effects: { session: { permissions } } });
  }
  return plan;
}

async function resolveWorkingDir(dir: string): Promise<string> {
  const abs = path.resolve(dir);
  const info = await stat(abs).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new TowerError('invalid_request', `working_dir "${dir}" is not an existing directory`);
  }
  return abs;
}
