import { useState, type FormEvent } from 'react';

const MESSAGES = {
  none: 'This Tower needs a token. Enter it once; it is kept in this browser.',
  wrong: 'That token was refused: it is wrong or has been revoked. Enter a valid token.',
  down: 'Tower does not answer. Check that the server is running, then try again.',
};

export function SignIn({ reason, onSubmit }: { reason: 'none' | 'wrong' | 'down'; onSubmit(token: string): void }) {
  const [token, setToken] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (token.trim()) onSubmit(token.trim());
  };
  return (
    <main className="center">
      <form className="card signin" onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">Sign in to Tower</h1>
        <p role={reason === 'none' ? undefined : 'alert'} className={reason === 'none' ? 'muted' : 'error'} data-testid="signin-reason">
          {MESSAGES[reason]}
        </p>
        <label>
          Token
          <input type="password" autoFocus autoComplete="current-password" value={token} onChange={(e) => setToken(e.target.value)} name="token" />
        </label>
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}
