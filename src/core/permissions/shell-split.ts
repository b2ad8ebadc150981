/**
 * Splitting a shell command into the simple commands it runs, so that a rule like `bash:cmd=git *` judges
 * each of them and is not fooled by `git status && rm -rf /`.
 *
 * The split is deliberately coarse and quote-blind: it cuts at `;`, `&&`, `||`, `|`, `&`, newlines,
 * backticks, `$(`, `(`, `)` and redirections (`>`, `>>`, `<`), even inside quotes, because `$(…)` and
 * backticks still run inside double quotes and a quote-aware parser that got one case wrong would be a
 * bypass. Splitting too much only makes an allow rule ask more often (a quoted `;` produces a fragment
 * no allow rule matches) and a deny rule match more often, both on the safe side.
 *
 * A redirection target becomes a part of its own, so `git log > notes.txt` is allowed only if something
 * also allows `notes.txt`; writing a file is not what `git *` granted. Two redirections that touch no file
 * are removed first: duplicating or closing a descriptor (`2>&1`, `>&2`, `3>&-`) and sending output to
 * `/dev/null` (or reading from it).
 */

const FD_DUPLICATION = /\d*[<>]&(?:\d+|-)/g;
const DEV_NULL = /(?:\d+|&)?(?:>>?|<)\s*\/dev\/null(?=$|[\s;&|()<>`])/g;
const OPERATORS = /&&|\|\||\$\(|[;|&\n\r`()<>]/;

/** Reserved words that run nothing themselves; stripped so `if git diff; then …` judges `git diff`. */
const LEADING_KEYWORDS = /^(?:(?:!|\{|\}|if|then|else|elif|fi|do|done|while|until)(?:\s+|$))+/;

/** Leading `NAME=value` assignments (unquoted values only), which deny rules see past. */
const LEADING_ASSIGNMENTS = /^(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)+/;

/**
 * The simple commands in `command`, trimmed, without leading reserved words, empty parts dropped. A
 * command with nothing left (blank, or only operators) yields its trimmed self, so it is still judged.
 */
export function splitShellCommand(command: string): string[] {
  const cleaned = command.replace(FD_DUPLICATION, ' ').replace(DEV_NULL, ' ');
  const parts = cleaned
    .split(OPERATORS)
    .map((part) => part.trim().replace(LEADING_KEYWORDS, '').trim())
    .filter((part) => part !== '');
  return parts.length > 0 ? parts : [command.trim()];
}

/**
 * What a deny or ask rule is tested against: the whole command (so `bash:cmd=curl * | sh` can name a
 * pipeline), each simple command, and each simple command without leading variable assignments (so
 * `X=1 rm -rf /` still meets `rm *`). An allow rule never sees the assignment-free form: allowing
 * `git *` must not allow `GIT_SSH_COMMAND=evil git fetch`.
 */
export function denyCandidates(command: string): string[] {
  const candidates = new Set<string>([command, command.trim()]);
  for (const part of splitShellCommand(command)) {
    candidates.add(part);
    candidates.add(part.replace(LEADING_ASSIGNMENTS, ''));
  }
  return [...candidates];
}
