import { parseCommandLine, ShellParseError } from '../../protocol/shell-parse.js';

/**
 * How permission rules read a shell command line: parsed by the same parser as the runner's shell policy
 * (`protocol/shell-parse.ts`), so `bash:cmd=git *` judges every simple command it runs (both sides of
 * pipes, `;`, `&&`, `||`, `&`, inside `$(...)`, backticks, subshells, blocks, wrapped commands such as
 * `xargs rm`, inline `bash -c` scripts) and is not fooled by `git status && rm -rf /`.
 */
export interface CommandPart {
  /** A simple command with its leading assignments (`X=1 git fetch`), or a file the line redirects to. */
  text: string;
  /** False when no command rule may allow it: its command name is not a literal word (`$CMD x`). */
  allowable: boolean;
}

export type CommandReading =
  | {
      ok: true;
      /** What allow rules must each cover. */
      parts: CommandPart[];
      /** What a deny or ask rule is tested against. */
      candidates: string[];
    }
  | { ok: false; reason: string; candidates: string[] };

const MEMO_LIMIT = 64;
/** A gate reads the same command up to three times per call (deny, allow, the reason): parse it once. */
const memo = new Map<string, CommandReading>();

/**
 * Reads `command`. Allow rules must cover every part: each simple command with its assignments (allowing
 * `git *` does not allow `GIT_SSH_COMMAND=evil git fetch` or `PATH=/tmp/x; git status`), and each file it
 * redirects to or from (`git log > ~/.bashrc` writes a file, which `git *` did not grant; `2>&1` and
 * `/dev/null` touch no file). Deny and ask rules are tested against the whole line (so `curl * | sh`
 * can name a pipeline), each simple command with and without its assignments (so `X=1 rm -rf /` still
 * meets `rm *`) and each redirected file. A line that does not parse has no parts: no command rule can
 * allow it, and only the whole line meets deny and ask rules.
 */
export function readCommand(command: string): CommandReading {
  const known = memo.get(command);
  if (known) return known;
  const reading = read(command);
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(command, reading);
  return reading;
}

function read(command: string): CommandReading {
  const whole = [...new Set([command, command.trim()])];
  let parsed;
  try {
    parsed = parseCommandLine(command);
  } catch (err) {
    if (err instanceof ShellParseError) return { ok: false, reason: err.message, candidates: whole };
    throw err;
  }
  const parts: CommandPart[] = [];
  const candidates = new Set(whole);
  for (const cmd of parsed.commands) {
    const bare = cmd.text;
    const text = [...cmd.assigns, ...(cmd.words.length > 0 ? [bare] : [])].join(' ');
    parts.push({ text, allowable: cmd.words.length === 0 || cmd.words[0] !== null });
    candidates.add(text);
    if (cmd.words.length > 0) candidates.add(bare);
  }
  for (const file of parsed.redirects) {
    parts.push({ text: file, allowable: true });
    candidates.add(file);
  }
  // Nothing to run (blank, only comments): the line itself is judged, so no rule allows it by default.
  if (parts.length === 0) parts.push({ text: command.trim(), allowable: true });
  return { ok: true, parts, candidates: [...candidates] };
}
