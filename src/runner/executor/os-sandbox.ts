import type { SandboxMode } from '../../protocol/session.js';
import { TowerError } from '../../protocol/errors.js';
import { probeBwrap, type BwrapOptions, type BwrapProbe } from '../bwrap.js';
import type { RunnerLogger } from '../reap.js';

export type SandboxChoice =
  | { kind: 'bwrap'; options: Omit<BwrapOptions, 'root'> }
  /**
   * `fallback` is set when `auto` wanted bwrap and could not have it, the first time for a working
   * directory: the reason, for the tool result (and so the turn log). Later calls there stay quiet.
   */
  | { kind: 'none'; fallback?: string };

export interface SandboxSettings {
  mode: SandboxMode;
  network: boolean;
  hide: readonly string[];
  /** The working directory, to tell about a fallback once per directory. */
  root: string;
  logger?: RunnerLogger;
  /** Injected by tests; defaults to running bwrap once. */
  probe?: () => Promise<BwrapProbe>;
}

let warned = false;
const told = new Set<string>();

/**
 * Decides how one command runs. `bwrap` that does not work is an error (the operator asked for
 * containment, running without it would be silent downgrade); `auto` falls back to no sandbox, logging a
 * warning once per process and telling the caller so the tool result says it too.
 */
export async function chooseSandbox(settings: SandboxSettings): Promise<SandboxChoice> {
  if (settings.mode === 'none') return { kind: 'none' };
  const probe = await (settings.probe ?? probeBwrap)();
  if (probe.ok) return { kind: 'bwrap', options: { network: settings.network, hide: settings.hide } };
  if (settings.mode === 'bwrap') {
    throw new TowerError('tool_failed', `sandbox "bwrap" is required but bubblewrap does not work on this machine: ${probe.reason}`);
  }
  if (!warned) {
    warned = true;
    settings.logger?.warn({ reason: probe.reason }, 'sandbox auto: bubblewrap does not work here; commands run without an OS sandbox');
  }
  if (told.has(settings.root)) return { kind: 'none' };
  told.add(settings.root);
  return { kind: 'none', fallback: probe.reason };
}
