import type { ConnectionState } from '../client.ts';

/** The WebSocket's state: `live` while connected, `reconnecting` otherwise. */
export function ConnectionIndicator({ state }: { state: ConnectionState }) {
  return (
    <span className={`connection ${state}`} role="status" title={state === 'live' ? 'Receiving updates as they happen' : 'The live connection dropped; trying again'}>
      <span className="connection-dot" aria-hidden="true" />
      <span data-testid="connection-status">{state}</span>
    </span>
  );
}
