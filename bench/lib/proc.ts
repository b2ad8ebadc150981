import { fork, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** Repository root (bench/lib/../..). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TSX = import.meta.resolve('tsx');

export interface Message {
  type: string;
  [key: string]: unknown;
}

interface Waiter {
  match: (msg: Message) => boolean;
  resolve: (msg: Message) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

const live = new Set<ChildProcess>();
/** Temporary directories children reported (`cleanupDir` in a reply): removed once they exit. */
const dirs = new Map<ChildProcess, Set<string>>();
let hooked = false;

function removeDirs(proc: ChildProcess): void {
  for (const dir of dirs.get(proc) ?? []) rmSync(dir, { recursive: true, force: true });
  dirs.delete(proc);
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  const killAll = (): void => {
    for (const child of live) child.kill('SIGKILL');
    for (const proc of [...dirs.keys()]) removeDirs(proc);
  };
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      killAll();
      process.exit(130);
    });
  }
}

/**
 * A TypeScript child process (run with `node --import tsx`) that talks to its parent over IPC: requests
 * carry an id, the child answers `{type: 'reply', id, ...}` (see ipc.ts). Killed with the parent.
 */
export class Child {
  private nextId = 1;
  private readonly inbox: Message[] = [];
  private readonly waiters = new Set<Waiter>();
  private exitCode: number | null | undefined;
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    live.add(proc);
    proc.on('message', (raw) => this.onMessage(raw as Message));
    this.exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        live.delete(proc);
        // A child killed mid-work (or one that crashed) cannot clean up after itself.
        removeDirs(proc);
        this.exitCode = code ?? (signal ? -1 : null);
        for (const w of this.waiters) {
          clearTimeout(w.timer);
          w.reject(new Error(`${name} exited (code ${code}, signal ${signal}) while a reply was awaited`));
        }
        this.waiters.clear();
        resolve(code);
      });
    });
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  /** Sends a request and waits for its reply (rejects on a child error, exit or timeout). */
  async request<T = Message>(msg: Message, timeoutMs = 60_000): Promise<T> {
    const id = this.nextId++;
    const reply = this.waitFor((m) => m.type === 'reply' && m.id === id, timeoutMs, `reply to ${msg.type}`);
    this.proc.send({ ...msg, id });
    const answer = await reply;
    if (typeof answer.cleanupDir === 'string') {
      const set = dirs.get(this.proc) ?? new Set<string>();
      set.add(answer.cleanupDir);
      dirs.set(this.proc, set);
    }
    if (typeof answer.error === 'string') throw new Error(`${this.name}: ${msg.type} failed: ${answer.error}`);
    return answer as T;
  }

  /** Waits for an unsolicited message of this type (e.g. a progress sample). */
  next<T = Message>(type: string, timeoutMs = 60_000): Promise<T> {
    return this.waitFor((m) => m.type === type, timeoutMs, type) as Promise<T>;
  }

  /** Kills the child at once (for a server too busy to answer) and waits for it to go. */
  async kill(): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.proc.kill('SIGKILL');
    await this.exited;
  }

  /** Asks the child to exit and waits; kills it if it does not within the timeout. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.exitCode !== undefined) return;
    try {
      this.proc.send({ type: 'exit', id: 0 });
    } catch {
      // channel already closed
    }
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  private waitFor(match: (m: Message) => boolean, timeoutMs: number, what: string): Promise<Message> {
    const idx = this.inbox.findIndex(match);
    if (idx >= 0) return Promise.resolve(this.inbox.splice(idx, 1)[0]!);
    if (this.exitCode !== undefined) return Promise.reject(new Error(`${this.name} has exited`));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  private onMessage(msg: Message): void {
    for (const w of this.waiters) {
      if (w.match(msg)) {
        clearTimeout(w.timer);
        this.waiters.delete(w);
        w.resolve(msg);
        return;
      }
    }
    this.inbox.push(msg);
  }
}

export interface SpawnOptions {
  args?: string[];
  /** Extra node flags, e.g. `--expose-gc`, `--cpu-prof`. */
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
}

/** Forks `bench/<relPath>` as a TypeScript child with an IPC channel; its stdout/stderr go to our stderr. */
export function spawnChild(name: string, relPath: string, opts: SpawnOptions = {}): Child {
  hookExit();
  const proc = fork(path.join(ROOT, 'bench', relPath), opts.args ?? [], {
    cwd: ROOT,
    execArgv: ['--import', TSX, ...(opts.nodeArgs ?? [])],
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  // Children print diagnostics only; keep our stdout for the summary and the BENCH line.
  proc.stdout?.pipe(process.stderr);
  return new Child(name, proc);
}

/** Stops children in parallel, ignoring the ones already gone. */
export async function stopAll(...children: Array<Child | undefined>): Promise<void> {
  await Promise.all(children.map((c) => c?.stop().catch(() => undefined)));
}
