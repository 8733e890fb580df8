import { useState } from 'preact/hooks';
import { ApiError, post } from './lib/api.js';

/** The sign-in form (POST /api/v1/session); `paasmaker console` signs its owner in without it. */
export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<{ text: string; hint?: string }>();
  const [busy, setBusy] = useState(false);
  return (
    <div class="signin">
      <form
        class="dialog"
        onSubmit={(event) => {
          event.preventDefault();
          setBusy(true);
          post('/session', { user, password }).then(
            () => onSignedIn(),
            (failure: Error) => {
              setBusy(false);
              setError({ text: failure.message, hint: failure instanceof ApiError ? failure.hint : undefined });
            },
          );
        }}
      >
        <h2>
          <span class="logo">▲</span> paasmaker
        </h2>
        <p class="muted">Sign in to the console of this machine’s platform.</p>
        <label>
          User
          <input name="user" autoComplete="username" value={user} onInput={(event) => setUser((event.target as HTMLInputElement).value)} required autoFocus />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" value={password} onInput={(event) => setPassword((event.target as HTMLInputElement).value)} required />
        </label>
        {error && (
          <p class="error" role="alert">
            {error.text}
            {error.hint && <span class="hint">{error.hint}</span>}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
        {!error && (
          <p class="muted small">
            On this machine, <code>paasmaker console</code> opens the console signed in.
          </p>
        )}
      </form>
    </div>
  );
}
