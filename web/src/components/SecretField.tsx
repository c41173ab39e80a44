import { useState } from 'react';
import { CopyButton } from './CopyButton.tsx';

/** A signing secret, masked until revealed, with a copy button. */
export function SecretField({ secret, label = 'Signing secret' }: { secret: string; label?: string }) {
  const [revealed, setRevealed] = useState(false);
  return (
    <div className="secret">
      <span className="secret-label">{label}</span>
      <code className="mono secret-value" data-testid="secret-value" aria-label={revealed ? label : `${label} (hidden)`}>
        {revealed ? secret : maskSecret(secret)}
      </code>
      <span className="secret-actions">
        <button type="button" className="button small" aria-pressed={revealed} data-testid="reveal-secret" onClick={() => setRevealed((value) => !value)}>
          {revealed ? 'Hide' : 'Reveal'}
        </button>
        <CopyButton text={secret} testId="copy-secret" />
      </span>
    </div>
  );
}

/** `whsec_` stays visible (it says what kind of value this is); the rest becomes dots. */
export function maskSecret(secret: string): string {
  const prefix = secret.startsWith('whsec_') ? 'whsec_' : '';
  return `${prefix}${'•'.repeat(16)}`;
}
