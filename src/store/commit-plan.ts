import { TowerError } from '../protocol/errors.js';
import type { SessionSettings } from '../protocol/session.js';
import type { CommitEntry, SessionPatch } from './types.js';

// Kept free of zod (only types from protocol/ besides errors): the SQLite writer thread loads this
// module, and its start-up pays for every module it imports (settingsFromJson is in settings-json.ts).

/**
 * What a commit batch does to each session's row, summed up before anything is written: shared by every
 * backend, so they cannot disagree on how patches of one batch combine (the last one wins; counters add).
 * Serialised columns are JSON text; null means "unchanged".
 */
export interface CommitPlan {
  events: number;
  messages: number;
  updatedAt: string;
  title: string | null;
  model: string | null;
  starred: boolean | null;
  permissions: string | null;
  settings: string | null;
  /** JSON; the string 'null' clears the column (SQL NULL means "unchanged"). */
  runner: string | null;
  addInput: number;
  addOutput: number;
  addCost: number;
  deleted: boolean;
}

/** What planning reads of an entry (the SQLite writer thread's slimmer entries have this much). */
export type PlanEntry = Pick<CommitEntry, 'session_id' | 'timestamp' | 'session' | 'delete_session'> & { message?: unknown };

export function planCommit(entries: readonly PlanEntry[]): Map<string, CommitPlan> {
  const plans = new Map<string, CommitPlan>();
  for (const entry of entries) {
    let p = plans.get(entry.session_id);
    if (!p) {
      p = {
        events: 0, messages: 0, updatedAt: entry.timestamp, title: null, model: null, starred: null,
        permissions: null, settings: null, runner: null, addInput: 0, addOutput: 0, addCost: 0, deleted: false,
      };
      plans.set(entry.session_id, p);
    }
    // Once its delete is committed the session no longer exists for the rest of the batch.
    if (p.deleted) throw unknownSession(entry.session_id);
    p.events++;
    if (entry.message) p.messages++;
    p.updatedAt = entry.timestamp;
    if (entry.session) applyPatch(p, entry.session);
    if (entry.delete_session) p.deleted = true;
  }
  return plans;
}

function applyPatch(p: CommitPlan, patch: SessionPatch): void {
  if (patch.title !== undefined) p.title = patch.title;
  if (patch.model !== undefined) p.model = patch.model;
  if (patch.starred !== undefined) p.starred = patch.starred;
  if (patch.permissions !== undefined) p.permissions = JSON.stringify(patch.permissions);
  if (patch.settings !== undefined) p.settings = settingsJson(patch.settings);
  if (patch.runner !== undefined) p.runner = JSON.stringify(patch.runner);
  p.addInput += patch.add_input_tokens ?? 0;
  p.addOutput += patch.add_output_tokens ?? 0;
  p.addCost += patch.add_cost ?? 0;
}

export function unknownSession(id: string): TowerError {
  return new TowerError('unknown_session', `unknown session ${id}`, { session_id: id });
}

/** The settings' defined fields only, in a fixed order. */
export const definedSettings = (s: SessionSettings): SessionSettings => ({
  ...(s.sandbox !== undefined ? { sandbox: s.sandbox } : {}),
  ...(s.network !== undefined ? { network: s.network } : {}),
  ...(s.mcp !== undefined ? { mcp: s.mcp } : {}),
});

/** The `settings` column's text. */
export function settingsJson(s: SessionSettings): string {
  return JSON.stringify(definedSettings(s));
}
