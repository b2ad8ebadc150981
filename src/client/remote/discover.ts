import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_REGISTRY_DIR, REGISTRY_DIR_ENV, RegistryEntry } from '../../protocol/pando-bus.js';

export interface DiscoveredInstance extends RegistryEntry {
  /** `tcp://127.0.0.1:<pub_port>` and `<rpc_port>`. */
  pubEndpoint: string;
  rpcEndpoint: string;
  /** The registry file it was read from. */
  file: string;
}

export interface DiscoverOptions {
  /** Default `$TOWER_PANDO_REGISTRY_DIR` or /tmp/pando-instances, the folder Pando uses. */
  dir?: string;
  /** Delete entries whose pid is dead, as Pando's readers do (default true). */
  prune?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** Tower and Pando instances on this machine, from the registry folder; unreadable files are skipped. */
export function discoverInstances(opts: DiscoverOptions = {}): DiscoveredInstance[] {
  const dir = opts.dir ?? ((opts.env ?? process.env)[REGISTRY_DIR_ENV] || DEFAULT_REGISTRY_DIR);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const out: DiscoveredInstance[] = [];
  for (const name of names.sort()) {
    const file = path.join(dir, name);
    let entry: RegistryEntry;
    try {
      const parsed = RegistryEntry.safeParse(JSON.parse(readFileSync(file, 'utf8')));
      if (!parsed.success) continue;
      entry = parsed.data;
    } catch {
      continue;
    }
    if (!processAlive(entry.pid)) {
      if (opts.prune ?? true) rmSync(file, { force: true });
      continue;
    }
    out.push({ ...entry, file, pubEndpoint: `tcp://127.0.0.1:${entry.pub_port}`, rpcEndpoint: `tcp://127.0.0.1:${entry.rpc_port}` });
  }
  return out;
}

/** True while `pid` runs; a zombie counts as dead (PID 1 in some containers never reaps). */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    if (process.platform === 'linux') return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
}
