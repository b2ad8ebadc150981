/**
 * Where the dashboard keeps its bearer token: local storage, entered once or passed in the URL
 * fragment (`#token=…`, never the query, so it reaches no server log and no Referer).
 */
const KEY = 'tower.token';

export function takeTokenFromFragment(loc: Location, history: History): string | undefined {
  const m = /(?:^#|&)token=([^&]+)/.exec(loc.hash);
  if (!m?.[1]) return undefined;
  const token = decodeURIComponent(m[1]);
  // Drop the token from the address bar at once.
  history.replaceState(null, '', loc.pathname + loc.search);
  return token;
}

export function loadToken(): string | undefined {
  try {
    return localStorage.getItem(KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

export function saveToken(token: string | undefined): void {
  try {
    if (token) localStorage.setItem(KEY, token);
    else localStorage.removeItem(KEY);
  } catch {
    // Storage can be disabled: the token then lives for this page only.
  }
}
