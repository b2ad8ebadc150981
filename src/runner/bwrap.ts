import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';

/**
 * Running commands inside bubblewrap: the whole root is mounted read-only, only the working directory and
 * a private /tmp are writable, the command gets its own pid namespace (so the kernel ends every process of
 * it when the sandbox ends, `setsid` or not) and, unless the session allows it, no network. `hide` paths
 * (the server's data dir with its token and database) are covered by an empty tmpfs.
 */

export interface BwrapOptions {
  /** Real path of the working directory: the one writable place besides /tmp. */
  root: string;
  network: boolean;
  hide?: readonly string[];
  /** Where the command starts; default `root`. */
  chdir?: string;
  /**
   * Paths the command needs to read that may lie under /tmp, which the private /tmp would cover (an MCP
   * server's script and its node_modules in a checkout under /tmp, say): bound again read-only. Bound
   * before `root` and `hide`, so a hidden path inside one of them stays hidden.
   */
  keep?: readonly string[];
}

/** Whether `p` (absolute) is /tmp or inside it. */
function underTmp(p: string): boolean {
  return p === '/tmp' || p.startsWith('/tmp/');
}

export function bwrapArgs(opts: BwrapOptions): string[] {
  const args = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp'];
  for (const kept of opts.keep ?? []) {
    if (underTmp(kept) && kept !== '/tmp' && existsSync(kept)) args.push('--ro-bind', kept, kept);
  }
  // The working directory is bound before the hidden paths: bound after, it would cover a hidden path
  // inside it (Tower's default data dir `./.tower` under the directory it serves, a runner's `.tower`).
  args.push('--bind', opts.root, opts.root);
  for (const hidden of opts.hide ?? []) {
    if (existsSync(hidden) && hidden !== opts.root) args.push('--tmpfs', hidden);
  }
  args.push('--chdir', opts.chdir ?? opts.root);
  args.push('--unshare-pid', '--unshare-ipc', '--unshare-uts', '--die-with-parent');
  if (!opts.network) args.push('--unshare-net');
  args.push('--setenv', 'TMPDIR', '/tmp');
  return args;
}

export type BwrapProbe = { ok: true } | { ok: false; reason: string };

let probed: Promise<BwrapProbe> | undefined;

/**
 * Whether bwrap works on this machine, with the namespaces Tower uses (missing binary, no user namespaces,
 * a container without the needed privileges...). Asked once per process.
 */
export function probeBwrap(): Promise<BwrapProbe> {
  probed ??= runProbe();
  return probed;
}

function runProbe(): Promise<BwrapProbe> {
  return new Promise((resolve) => {
    const args = [...bwrapArgs({ root: tmpdir(), network: false }), '--', 'true'];
    let stderr = '';
    let child;
    try {
      child = spawn('bwrap', args, { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    } catch (err) {
      resolve({ ok: false, reason: err instanceof Error ? err.message : String(err) });
      return;
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 500) stderr += chunk.toString('utf8');
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: err.message.includes('ENOENT') ? 'bwrap is not installed' : err.message });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ ok: true });
      else resolve({ ok: false, reason: stderr.trim() || `bwrap exited with ${code ?? signal}` });
    });
  });
}
