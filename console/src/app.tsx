import { Component, type ComponentChildren } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, liveClient, request } from './api';
import { ErrorMessage } from './components';
import { ViewerDocument } from './generated/graphql';
import { go, href, useRoute, type Route } from './route';
import { forgetToken, savedToken, saveToken } from './session';
import { SessionContext, type Session } from './session-context';
import { DeliveriesView } from './views/deliveries';
import { DeliveryView } from './views/delivery';
import { EventView } from './views/event';
import { RelaysView } from './views/relays';
import { SearchView } from './views/search';
import { SourcesView } from './views/sources';

/** A render error shows as a message with a way back, never as a blank page. */
class ErrorBoundary extends Component<{ children: ComponentChildren }, { error?: string }> {
  override state: { error?: string } = {};

  override componentDidCatch(error: unknown) {
    this.setState({ error: error instanceof Error ? error.message : String(error) });
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <div class="panel">
        <ErrorMessage error={`The console hit an error: ${this.state.error}`} />
        <button type="button" onClick={() => { this.setState({ error: undefined }); go({ view: 'deliveries' }); }}>Back to deliveries</button>
      </div>
    );
  }
}

function SignIn({ onToken, reason }: { onToken(token: string): void; reason?: string }) {
  const [token, setToken] = useState('');
  return (
    <main class="sign-in">
      <h1>Hookyard</h1>
      <form onSubmit={(event) => { event.preventDefault(); if (token.trim()) onToken(token.trim()); }}>
        <label>API token
          <input name="token" type="password" autoComplete="off" value={token} onInput={(event) => setToken(event.currentTarget.value)} placeholder="hky_…" />
        </label>
        <button type="submit">Sign in</button>
      </form>
      <ErrorMessage error={reason} />
      <p class="muted">The token stays in this tab's session storage (never a cookie) and is gone when the tab closes. A READ token sees everything and changes nothing.</p>
    </main>
  );
}

function View({ route }: { route: Route }) {
  switch (route.view) {
    case 'sources': return <SourcesView />;
    case 'relays': return <RelaysView />;
    case 'delivery': return <DeliveryView key={route.id} id={route.id} />;
    case 'event': return <EventView key={route.id} id={route.id} />;
    case 'search': return <SearchView key={route.key} term={route.key} />;
    default: return <DeliveriesView />;
  }
}

function Shell({ session, liveState }: { session: Session; liveState?: string }) {
  const route = useRoute();
  const [term, setTerm] = useState('');
  const tab = (view: 'deliveries' | 'sources' | 'relays', label: string) => (
    <a href={href({ view })} class={route.view === view ? 'tab current' : 'tab'}>{label}</a>
  );
  return (
    <>
      <header class="top">
        <strong class="brand">Hookyard</strong>
        <nav>{tab('deliveries', 'Deliveries')}{tab('sources', 'Sources')}{tab('relays', 'Relays')}</nav>
        <form class="search" role="search" onSubmit={(event) => { event.preventDefault(); if (term.trim()) go({ view: 'search', key: term.trim() }); }}>
          <input name="search" type="search" maxLength={500} value={term} onInput={(event) => setTerm(event.currentTarget.value)} placeholder="event id, delivery id or idempotency key" />
        </form>
        <span class={session.admin ? 'scope admin' : 'scope read'} data-testid="scope">{session.admin ? 'ADMIN' : 'READ'} · {session.tokenName}</span>
        <button type="button" onClick={() => session.signOut()}>Sign out</button>
      </header>
      {liveState ? <p class="notice">{liveState}</p> : null}
      <main class="content">
        <ErrorBoundary><View route={route} /></ErrorBoundary>
      </main>
    </>
  );
}

export function App() {
  const [token, setToken] = useState(savedToken);
  const [viewer, setViewer] = useState<{ admin: boolean; tokenName: string }>();
  const [reason, setReason] = useState<string>();
  const [liveRound, setLiveRound] = useState(0);
  const [liveState, setLiveState] = useState<string>();

  const signOut = (why?: string) => {
    forgetToken();
    setToken(null);
    setViewer(undefined);
    setReason(why);
  };

  useEffect(() => {
    if (!token) return;
    let current = true;
    request(token, ViewerDocument).then(
      ({ viewer: found }) => {
        if (!current) return;
        // The API refuses such a token everything the console asks; say why once, here.
        if (found.scope === 'PUBLISH') signOut(`"${found.tokenName}" is a PUBLISH token: it may only publish events (publishEvent), not open the console. Sign in with a READ or ADMIN token.`);
        else setViewer({ admin: found.scope === 'ADMIN', tokenName: found.tokenName });
      },
      (error: unknown) => {
        if (!current) return;
        if (error instanceof ApiError && error.code === 'UNAUTHENTICATED') signOut('That token was refused: check it and sign in again.');
        else signOut(error instanceof Error ? error.message : String(error));
      },
    );
    return () => {
      current = false;
    };
  }, [token]);

  const live = useMemo(() => (token && viewer ? liveClient(token, () => {
    setLiveState(undefined);
    setLiveRound((n) => n + 1);
  }, setLiveState, signOut) : undefined), [token, viewer]);
  useEffect(() => () => void live?.dispose(), [live]);

  if (!token) return <SignIn reason={reason} onToken={(value) => { saveToken(value); setReason(undefined); setToken(value); }} />;
  if (!viewer || !live) return <p class="muted center">Signing in…</p>;
  const session: Session = { token, admin: viewer.admin, tokenName: viewer.tokenName, live, liveRound, signOut };
  return (
    <SessionContext.Provider value={session}>
      <Shell session={session} liveState={liveState} />
    </SessionContext.Provider>
  );
}
