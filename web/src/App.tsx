import { useEffect, useMemo, useState } from 'react';
import { Api, probeAuth } from './api/client.js';
import { loadToken, saveToken, takeTokenFromFragment } from './api/token.js';
import { TowerContext } from './context.js';
import { AutoFeed } from './live/auto.js';
import { TelemetryStore } from './live/telemetryStore.js';
import { ConnectionBadge } from './components/ConnectionBadge.js';
import { Runners } from './pages/Runners.js';
import { SessionList } from './pages/SessionList.js';
import { SessionView } from './pages/SessionView.js';
import { SignIn } from './pages/SignIn.js';
import { Telemetry, TelemetryCollector } from './pages/Telemetry.js';
import { Threads } from './pages/Threads.js';
import { Link, usePath } from './router.js';

type Auth = { phase: 'checking' } | { phase: 'in' } | { phase: 'out'; reason: 'none' | 'wrong' | 'down' };

export function App() {
  const api = useMemo(() => new Api(takeTokenFromFragment(location, history) ?? loadToken()), []);
  const tower = useMemo(() => {
    const feeds = new AutoFeed(api);
    return { api, feeds, hub: feeds.socket, telemetry: new TelemetryStore() };
  }, [api]);
  const [auth, setAuth] = useState<Auth>({ phase: 'checking' });

  const check = async (token: string | undefined): Promise<void> => {
    const result = await probeAuth(token);
    if (result === 'ok') {
      api.setToken(token);
      saveToken(token);
      setAuth({ phase: 'in' });
    } else {
      setAuth({ phase: 'out', reason: result === 'down' ? 'down' : token ? 'wrong' : 'none' });
    }
  };

  useEffect(() => {
    void check(api.currentToken);
    // A token revoked or changed on the server: back to the sign-in screen, saying why.
    return api.onUnauthorized(() => {
      saveToken(undefined);
      setAuth({ phase: 'out', reason: 'wrong' });
    });
  }, [api]);

  // The hub socket carries the token in its first frame: signed out, it closes; signed in, it opens.
  useEffect(() => {
    if (auth.phase === 'in') tower.hub.start();
    else tower.hub.stop();
  }, [auth.phase, tower]);

  if (auth.phase === 'checking') return <main className="center" aria-busy="true">Connecting to Tower…</main>;
  if (auth.phase === 'out') return <SignIn reason={auth.reason} onSubmit={(t) => void check(t)} />;
  const signOut = () => {
    saveToken(undefined);
    api.setToken(undefined);
    setAuth({ phase: 'out', reason: 'none' });
  };
  return (
    <TowerContext.Provider value={tower}>
      <Shell onSignOut={api.currentToken ? signOut : undefined} />
    </TowerContext.Provider>
  );
}

function Shell({ onSignOut }: { onSignOut: (() => void) | undefined }) {
  const path = usePath();
  const session = /^\/sessions\/([^/]+)$/.exec(path)?.[1];
  return (
    <div className="shell">
      <TelemetryCollector />
      <header className="topbar">
        <strong className="brand">Tower</strong>
        <nav aria-label="Main">
          <Link to="/">Sessions</Link>
          <Link to="/telemetry">Telemetry</Link>
          <Link to="/runners">Runners</Link>
          <Link to="/threads">Threads</Link>
        </nav>
        <ConnectionBadge />
        {onSignOut ? (
          <button type="button" className="ghost" onClick={onSignOut}>
            Sign out
          </button>
        ) : null}
      </header>
      <main className="page">
        {session ? (
          <SessionView key={session} id={decodeURIComponent(session)} />
        ) : path === '/telemetry' ? (
          <Telemetry />
        ) : path === '/runners' ? (
          <Runners />
        ) : path === '/threads' ? (
          <Threads />
        ) : (
          <SessionList />
        )}
      </main>
    </div>
  );
}
