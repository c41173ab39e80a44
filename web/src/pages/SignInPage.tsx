import { useId, useState, type FormEvent } from 'react';
import { useTitle } from '../hooks.ts';

interface SignInPageProps {
  reason: string | null;
  onSubmit: (token: string) => Promise<string | null>;
}

/** Asks for an API token when the API has tokens (API_TOKENS). */
export function SignInPage({ reason, onSubmit }: SignInPageProps) {
  useTitle('Sign in');
  const uid = useId();
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const trimmed = token.trim();
    if (trimmed === '') {
      setError('Enter a token.');
      return;
    }
    setBusy(true);
    setError(await onSubmit(trimmed));
    setBusy(false);
  };

  return (
    <div className="signin">
      <form className="card signin-card" onSubmit={(event) => void submit(event)} noValidate aria-labelledby={`${uid}-title`}>
        <h1 id={`${uid}-title`} className="brand-title">
          <span className="brand-mark" aria-hidden="true" />
          hookd
        </h1>
        <p>This API needs a token. Ask whoever runs hookd for one of its <code className="mono">API_TOKENS</code>.</p>
        {reason ? (
          <p className="notice warning" role="status">
            {reason}
          </p>
        ) : null}
        <label className="field" htmlFor={`${uid}-token`}>
          <span className="field-label">API token</span>
          <input
            id={`${uid}-token`}
            data-testid="signin-token"
            name="token"
            type="password"
            className="mono"
            value={token}
            onChange={(event) => setToken(event.target.value)}
            autoComplete="current-password"
            spellCheck={false}
            autoFocus
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? `${uid}-error` : undefined}
          />
          {error ? (
            <span className="field-error" id={`${uid}-error`} role="alert">
              {error}
            </span>
          ) : null}
        </label>
        <button type="submit" className="button primary wide" data-testid="signin-submit" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
        <p className="subtle small">The token is kept in this browser only (localStorage) until you sign out.</p>
      </form>
    </div>
  );
}
