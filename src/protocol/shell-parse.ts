import sh from 'mvdan-sh';

/**
 * What a shell command line runs, parsed by mvdan/sh (the parser behind shfmt), never split on strings:
 * every simple command of pipes, `;`, `&&`, `||`, `&`, `$(...)`, backticks, `<(...)`, subshells, blocks,
 * loops, functions, assignments and redirection targets, plus the commands that wrappers (`xargs rm`,
 * `env X=1 rm`, `sudo rm`, `timeout 5 rm`, ...) and inline scripts (`bash -c '...'`, `eval '...'`) run.
 *
 * Shared by the runner's shell policy (`runner/ops/shell-policy.ts`) and the session permissions engine
 * (`core/permissions`), so both judge a command line by the same reading of it. Pure: no I/O.
 */
export interface SimpleCommand {
  /** The command's words; `null` for a word that is not a literal (contains an expansion). */
  words: (string | null)[];
  /** Literal words by value, other words as written, joined by single spaces: what patterns meet. */
  text: string;
  /** Leading `NAME=value` assignments, as written (`GIT_SSH_COMMAND=x git fetch`, or `FOO=1` alone). */
  assigns: string[];
}

export interface ParsedCommandLine {
  /** Simple commands in source order, each wrapped or inline-script command right after its wrapper. */
  commands: SimpleCommand[];
  /**
   * Files the line redirects to or from (`> out`, `>> log`, `< in`, `&> all`, `<> rw`), literal or as
   * written. Descriptor duplication (`2>&1`, `3>&-`), `/dev/null`, here-documents and here-strings
   * touch no file and are left out.
   */
  redirects: string[];
}

/** A command line that cannot be parsed (syntax error, nesting too deep, too long); its message says why. */
export class ShellParseError extends Error {
  override readonly name = 'ShellParseError';
}

const MAX_NESTING = 8;
const UTF8 = new TextEncoder();
let shared: sh.Parser | undefined;
/**
 * One parser for every line: making one costs several times a parse. `Parse` resets it, and the tree it
 * returns does not depend on it, so the nested parses of inline scripts (during the walk) are safe.
 */
function parser(): sh.Parser {
  shared ??= sh.syntax.NewParser();
  return shared;
}
const TEXT = new TextDecoder();
/** Longer lines are not parsed: the parser is synchronous, and nobody types 64 KiB. */
export const MAX_PARSED_COMMAND_CHARS = 64 * 1024;

/**
 * Bounds on what is parsed, so no line holds the event loop: the parser (GopherJS) costs about 10 µs a word
 * and its tree walk 10-25 µs a node, and both recurse (a long pipeline overflows the stack). A line over
 * either bound is refused like one that does not parse: no rule can allow it, deny and ask still see it.
 */
export const MAX_PARSED_WORDS = 400;
export const MAX_WALKED_NODES = 1000;
const WORDISH = /[^\s|&;()<>]+/g;

/** Nodes walked by the current top-level parse (its inline scripts included). */
let walked = 0;

class TooComplex extends Error {}

/** Parses `command`; throws `ShellParseError` when it cannot. */
export function parseCommandLine(command: string, depth = 0): ParsedCommandLine {
  if (depth === 0) walked = 0;
  try {
    return parseLine(command, depth);
  } catch (err) {
    if (err instanceof ShellParseError) throw err;
    if (err instanceof TooComplex) throw new ShellParseError(`command has more than ${MAX_WALKED_NODES} syntax nodes, too complex to check`);
    if (err instanceof RangeError) throw new ShellParseError('command nests too deeply to be checked');
    throw err;
  }
}

function parseLine(command: string, depth: number): ParsedCommandLine {
  if (depth > MAX_NESTING) throw new ShellParseError('command nests shells too deeply to be checked');
  if (command.length > MAX_PARSED_COMMAND_CHARS) {
    throw new ShellParseError(`command is longer than ${MAX_PARSED_COMMAND_CHARS} characters, too long to check`);
  }
  let words = 0;
  for (WORDISH.lastIndex = 0; WORDISH.exec(command) !== null; ) {
    if (++words > MAX_PARSED_WORDS) throw new ShellParseError(`command has more than ${MAX_PARSED_WORDS} words, too many to check`);
  }
  let file: sh.File;
  try {
    file = parser().Parse(command, 'command');
  } catch (err) {
    if (err instanceof RangeError) throw err;
    throw new ShellParseError(`command is not valid shell syntax: ${describeParseError(err)}`);
  }
  // Offsets are in bytes (the parser is Go), so words are cut from the UTF-8 bytes.
  const source = UTF8.encode(command);
  const sourceOf = (node: sh.Node): string => TEXT.decode(source.subarray(node.Pos().Offset(), node.End().Offset()));
  const out: ParsedCommandLine = { commands: [], redirects: [] };
  sh.syntax.Walk(file, (node) => {
    if (node === null) return true;
    if (++walked > MAX_WALKED_NODES) throw new TooComplex();
    const type = sh.syntax.NodeType(node);
    if (type === 'Redirect') {
      const target = fileTarget(node as sh.Redirect, source, sourceOf);
      if (target !== null) out.redirects.push(target);
      return true;
    }
    if (type !== 'CallExpr') return true;
    const call = node as sh.CallExpr;
    const words = call.Args.filter((w): w is sh.Word => w !== null);
    const assigns = call.Assigns.filter((a): a is sh.Assign => a !== null).map(sourceOf);
    const literal = words.map(literalOf);
    const text = words.map((w, i) => literal[i] ?? sourceOf(w)).join(' ');
    out.commands.push({ words: literal, text, assigns });
    for (const inner of unwrap(literal, depth)) {
      out.commands.push(...inner.commands);
      out.redirects.push(...inner.redirects);
    }
    return true;
  });
  return out;
}

const REDIRECT_OPS = ['&>>', '&>', '>>', '>|', '>&', '<<<', '<<-', '<<', '<>', '<&', '>', '<'] as const;
const NO_FILE_OPS = new Set(['<<<', '<<-', '<<']);

/** The file a redirection opens, or null when it opens none. */
function fileTarget(redirect: sh.Redirect, source: Uint8Array, sourceOf: (node: sh.Node) => string): string | null {
  if (redirect.Word === null) return null;
  const at = TEXT.decode(source.subarray(redirect.OpPos.Offset(), redirect.OpPos.Offset() + 3));
  const op = REDIRECT_OPS.find((o) => at.startsWith(o));
  if (op === undefined || NO_FILE_OPS.has(op)) return null;
  const target = literalOf(redirect.Word) ?? sourceOf(redirect.Word);
  // `>&2`, `<&0`, `3>&-` duplicate or close a descriptor; `>& file` (no digits) is `&> file`.
  if ((op === '>&' || op === '<&') && /^(?:\d+-?|-)$/.test(target)) return null;
  if (target === '/dev/null') return null;
  return target;
}

const WRAPPERS = new Set(['xargs', 'env', 'sudo', 'nice', 'nohup', 'exec', 'command', 'builtin', 'time', 'timeout', 'stdbuf', 'doas']);
/** Wrapper options that take a separate value (`xargs -n 1`, `sudo -u root`, `timeout -s KILL`). */
const OPTIONS_WITH_VALUE: Record<string, ReadonlySet<string>> = {
  xargs: new Set(['-n', '-L', '-P', '-I', '-d', '-E', '-s', '-a']),
  sudo: new Set(['-u', '-g', '-C', '-D', '-h', '-p', '-r', '-t', '-U']),
  doas: new Set(['-u', '-C']),
  nice: new Set(['-n']),
  timeout: new Set(['-s', '-k', '--signal', '--kill-after']),
  env: new Set(['-u', '-C', '-S', '--unset', '--chdir']),
  stdbuf: new Set(['-i', '-o', '-e']),
};

const nonLiteral = (text: string): ParsedCommandLine => ({ commands: [{ words: [null], text, assigns: [] }], redirects: [] });

/** What a wrapper or an inline script would run. */
function unwrap(words: (string | null)[], depth: number): ParsedCommandLine[] {
  const name = baseName(words[0] ?? null);
  if (name === null) return [];
  if ((name === 'bash' || name === 'sh' || name === 'zsh' || name === 'dash') && words.length >= 2) {
    const c = words.indexOf('-c');
    if (c < 0) return [];
    const script = words[c + 1];
    if (script === undefined) return [];
    if (script === null) return [nonLiteral(`${name} -c <non-literal script>`)];
    return [parseLine(script, depth + 1)];
  }
  if (name === 'eval') {
    const rest = words.slice(1);
    if (rest.some((w) => w === null)) return [nonLiteral('eval <non-literal script>')];
    return rest.length > 0 ? [parseLine(rest.join(' '), depth + 1)] : [];
  }
  if (!WRAPPERS.has(name)) return [];
  const withValue = OPTIONS_WITH_VALUE[name] ?? new Set<string>();
  let i = 1;
  while (i < words.length) {
    const w = words[i];
    if (w === null || w === undefined) break;
    if (w === '--') {
      i += 1;
      break;
    }
    if (name === 'env' && /^[A-Za-z_][A-Za-z0-9_]*=/.test(w)) i += 1;
    else if (w.startsWith('-') && w.length > 1) i += withValue.has(w) ? 2 : 1;
    else if (name === 'timeout' && /^\d/.test(w)) {
      i += 1;
      break; // the duration comes right before the command
    } else if (name === 'nice' && /^-?\d+$/.test(w)) i += 1;
    else break;
  }
  const inner = words.slice(i);
  if (inner.length === 0) return [];
  const wrapped: SimpleCommand = { words: inner, text: inner.map((w) => w ?? '<expansion>').join(' '), assigns: [] };
  return [{ commands: [wrapped], redirects: [] }, ...unwrap(inner, depth + 1)];
}

export function baseName(word: string | null): string | null {
  if (word === null) return null;
  return word.includes('/') ? word.slice(word.lastIndexOf('/') + 1) : word;
}

/** The value of a word made only of literal text and quotes; `null` when it expands anything. */
function literalOf(word: sh.Word): string | null {
  let out = '';
  for (const part of word.Parts) {
    const type = sh.syntax.NodeType(part);
    if (type === 'Lit') out += unescapeUnquoted((part as sh.Lit).Value);
    else if (type === 'SglQuoted') out += (part as unknown as { Value: string }).Value;
    else if (type === 'DblQuoted') {
      const inner = (part as sh.DblQuoted).Parts;
      for (const p of inner) {
        if (sh.syntax.NodeType(p) !== 'Lit') return null;
        out += (p as sh.Lit).Value.replace(/\\([$`"\\\n])/g, '$1');
      }
    } else return null;
  }
  return out;
}

function unescapeUnquoted(value: string): string {
  return value.replace(/\\\n/g, '').replace(/\\(.)/gs, '$1');
}

function describeParseError(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null && 'Error' in err && typeof (err as { Error: unknown }).Error === 'function') {
    return String((err as { Error: () => unknown }).Error());
  }
  return String(err);
}
