/**
 * Command wildcards: unlike path globs, `*` here matches any run of characters, `/` and spaces included,
 * because a command's arguments are free text (`git *` must match `git push origin main`). `?` matches
 * exactly one character. The whole value must match (anchored) and case matters, as it does in a shell.
 */
export function compileWildcard(pattern: string): (value: string) => boolean {
  let source = '';
  for (const ch of pattern) {
    if (ch === '*') source += '[\\s\\S]*';
    else if (ch === '?') source += '[\\s\\S]';
    else source += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  const regex = new RegExp(`^${source}$`, 'u');
  return (value) => regex.test(value);
}
