import { useCallback, useEffect, useRef, useState } from 'react';
import { Provider } from 'urql';
import { createApiClient, type ClientHandle, type ConnectionState } from './client.ts';
import { ConnectionIndicator } from './components/ConnectionIndicator.tsx';
import { ConnectionContext, type Connection } from './hooks.ts';
import { clearToken, probeApi, readToken, writeToken } from './lib/auth.ts';
import { websocketUrl } from './lib/connection.ts';
import { EventPage } from './pages/EventPage.tsx';
import { LivePage } from './pages/LivePage.tsx';
import { SignInPage } from './pages/SignInPage.tsx';
import { SubscriptionPage } from './pages/SubscriptionPage.tsx';
import { SubscriptionsPage } from './pages/SubscriptionsPage.tsx';
import { Link, matchRoute, paths, useLocation } from './router.tsx';

type Phase =
  | { kind: 'checking' }
  | { kind: 'ready'; token: string | null; session: number }
  | { kind: 'sign-in'; reason: string | null }
  | { kind: 'unreachable'; message: string };

export function App() {
  const [phase, setPhase] = useState<Phase>({ kind: 'checking' });
  const sessions = useRef(0);

  const check = useCallback(async () => {
    const token = readToken();
    const probe = await probeApi(token, websocketUrl(window.location));
    if (probe.kind === 'ok') setPhase({ kind: 'ready', token, session: ++sessions.current });
    else if (probe.kind === 'unauthenticated') {
      if (token) clearToken();
      setPhase({ kind: 'sign-in', reason: token ? 'The stored token is no longer accepted. Sign in again.' : null });
    } else setPhase({ kind: 'unreachable', message: probe.message });
  }, []);

  useEffect(() => {
    void check();
  }, [check]);

  // Unreachable: try again every few seconds without a reload.
  useEffect(() => {
    if (phase.kind !== 'unreachable') return;
    const timer = setTimeout(() => void check(), 4000);
    return () => clearTimeout(timer);
  }, [phase, check]);

  const signIn = useCallback(async (token: string): Promise<string | null> => {
    const probe = await probeApi(token, websocketUrl(window.location));
    if (probe.kind === 'unauthenticated') return 'This token is not accepted.';
    if (probe.kind === 'unreachable') return `The API cannot be reached: ${probe.message}`;
    writeToken(token);
    setPhase({ kind: 'ready', token, session: ++sessions.current });
    return null;
  }, []);

  const signOut = useCallback(() => {
    clearToken();
    setPhase({ kind: 'checking' });
    void check();
  }, [check]);

  const refused = useCallback(() => {
    clearToken();
    setPhase({ kind: 'sign-in', reason: 'The API refused the token (it may have been revoked). Sign in again.' });
  }, []);

  if (phase.kind === 'checking') return <p className="boot subtle">Connecting to the API…</p>;
  if (phase.kind === 'sign-in') return <SignInPage reason={phase.reason} onSubmit={signIn} />;
  if (phase.kind === 'unreachable') {
    return (
      <div className="boot">
        <p className="field-error">The API cannot be reached ({phase.message}). Trying again…</p>
        <button type="button" className="button" onClick={() => void check()}>
          Try now
        </button>
      </div>
    );
  }
  return <Dashboard key={phase.session} token={phase.token} onUnauthenticated={refused} onSignOut={signOut} />;
}

/** The signed-in app: one urql client (and WebSocket) for its lifetime. */
function Dashboard({ token, onUnauthenticated, onSignOut }: { token: string | null; onUnauthenticated: () => void; onSignOut: () => void }) {
  const [connection, setConnection] = useState<Connection>({ state: 'reconnecting', reconnects: 0 });
  const latest = useRef({ token, onUnauthenticated });
  latest.current = { token, onUnauthenticated };
  const [handle, setHandle] = useState<ClientHandle | null>(null);
  useEffect(() => {
    const created = createApiClient({
      getToken: () => latest.current.token,
      onConnectionChange: (state: ConnectionState) => setConnection((current) => (current.state === state ? current : { ...current, state })),
      onReconnected: () => setConnection((current) => ({ ...current, reconnects: current.reconnects + 1 })),
      onUnauthenticated: () => latest.current.onUnauthenticated(),
    });
    setHandle(created);
    return () => created.dispose();
  }, []);
  if (!handle) return null;

  return (
    <Provider value={handle.client}>
      <ConnectionContext.Provider value={connection}>
        <Layout connection={connection.state} onSignOut={token ? onSignOut : null} />
      </ConnectionContext.Provider>
    </Provider>
  );
}

function Layout({ connection, onSignOut }: { connection: ConnectionState; onSignOut: (() => void) | null }) {
  const { pathname } = useLocation();
  const route = matchRoute(pathname);
  const mainRef = useRef<HTMLElement>(null);
  const firstRender = useRef(true);

  // On navigation: to the top, and the keyboard focus to the new page's heading.
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    window.scrollTo(0, 0);
    const heading = mainRef.current?.querySelector<HTMLElement>('h1');
    heading?.focus({ preventScroll: true });
  }, [pathname]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link href={paths.subscriptions()} className="brand">
          <span className="brand-mark" aria-hidden="true" />
          <span className="brand-name">hookd</span>
        </Link>
        <nav className="nav" aria-label="Main">
          <Link href={paths.subscriptions()} aria-current={route.name === 'subscriptions' || route.name === 'subscription' || route.name === 'event' ? 'page' : undefined}>
            Subscriptions
          </Link>
          <Link href={paths.live()} aria-current={route.name === 'live' ? 'page' : undefined}>
            Live
          </Link>
        </nav>
        <div className="topbar-end">
          <ConnectionIndicator state={connection} />
          {onSignOut ? (
            <button type="button" className="button small ghost" data-testid="sign-out" onClick={onSignOut}>
              Sign out
            </button>
          ) : null}
        </div>
      </header>
      <main id="main" ref={mainRef}>
        {route.name === 'subscriptions' ? <SubscriptionsPage /> : null}
        {route.name === 'subscription' ? <SubscriptionPage key={route.id} id={route.id} /> : null}
        {route.name === 'event' ? <EventPage key={route.id} id={route.id} /> : null}
        {route.name === 'live' ? <LivePage /> : null}
        {route.name === 'not-found' ? (
          <div className="page">
            <h1 tabIndex={-1}>Not found</h1>
            <p>
              Nothing lives at <code className="mono">{route.path}</code>. <Link href={paths.subscriptions()}>Go to the subscriptions.</Link>
            </p>
          </div>
        ) : null}
      </main>
    </>
  );
}
