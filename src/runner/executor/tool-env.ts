/**
 * The environment tools run with. Built from nothing rather than by deleting from the server's own
 * environment, so a variable Tower never heard of (a provider key, a CI token) cannot reach a command, its
 * output, the event log or the model.
 *
 * - Always passed when set: PATH, HOME, LANG, TERM, TMPDIR, USER, SHELL.
 * - Also passed: the names in the `tool_env` allow-list (config), and variables the session sets explicitly.
 * - Never passed, whatever the lists say: TOWER_TOKEN and any name matching *_KEY, *_TOKEN, *SECRET* or
 *   *PASSWORD* (case-insensitive). Secrets a command needs belong in a file it reads, not in Tower's env.
 */
export const BASE_TOOL_ENV = ['PATH', 'HOME', 'LANG', 'TERM', 'TMPDIR', 'USER', 'SHELL'] as const;

const SECRET_NAME = /(_KEY|_TOKEN)$|SECRET|PASSWORD/i;

export function isSecretName(name: string): boolean {
  return name === 'TOWER_TOKEN' || SECRET_NAME.test(name);
}

/** A valid variable name; anything else in an allow-list is refused at config time. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function toolEnvironment(
  source: NodeJS.ProcessEnv,
  allow: readonly string[] = [],
  explicit: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of [...BASE_TOOL_ENV, ...allow]) {
    const value = source[name];
    if (value !== undefined && !isSecretName(name)) env[name] = value;
  }
  for (const [name, value] of Object.entries(explicit)) {
    if (ENV_NAME.test(name) && !isSecretName(name)) env[name] = value;
  }
  return env;
}
