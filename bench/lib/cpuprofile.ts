/**
 * Reading V8 .cpuprofile files, shared by bench/prof.ts (totals) and bench/long-tasks.ts (busy stretches).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
export interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface LoadedProfile {
  file: string;
  profile: Profile;
  byId: Map<number, ProfileNode>;
  /** Node id → its parent's id. */
  parent: Map<number, number>;
}

/**
 * The profile named by `arg`: a file, or a directory's largest profile (the main thread's: tsx's loader
 * thread writes a small one beside it). Exits with `usage` when there is none.
 */
export function loadProfileArg(arg: string | undefined, usage: string): LoadedProfile {
  let file = arg;
  if (file && statSync(file).isDirectory()) {
    const dir = file;
    file = readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => path.join(dir, f))
      .sort((a, b) => statSync(b).size - statSync(a).size)[0];
  }
  if (!file) {
    process.stderr.write(usage);
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  return { file, profile, byId, parent };
}

/** A url shortened to its package path or its src/ or bench/ path; native frames have none. */
export function shortUrl(url: string): string {
  if (!url) return '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 13);
  const src = url.search(/\/(src|bench)\//);
  return src >= 0 ? url.slice(src + 1) : url;
}

/** `function file:line`, the key both tools aggregate by. */
export const frameLabel = (f: CallFrame): string =>
  `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
