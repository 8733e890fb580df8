/**
 * The web console: a Preact page that is only a client of /api/v1 and its
 * event stream. Preact, not React: React is here for the terminal UI (ink),
 * but react-dom would make the page's first load about four times larger;
 * Preact has React's API in a few kilobytes. Charts are uPlot's (canvas,
 * small, fast). Each page is a chunk loaded when first opened.
 */
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { render, type ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Toasts } from './components/toasts.js';
import { del, whenSignedOut } from './lib/api.js';
import { eventsConnected, onEvent, startEvents, stopEvents, whenEventsClosed } from './lib/events.js';
import { href, onLink, usePlace, type Place } from './lib/route.js';
import { loadSession, setSessionState, type SessionState } from './lib/session.js';
import { keepTraffic } from './lib/traffic.js';
import { SignIn } from './signin.js';

type PageModule = { default: ComponentType<{ place: any }> };
const PAGES: Record<Place['page'], () => Promise<PageModule>> = {
  overview: () => import('./pages/overview.js'),
  app: () => import('./pages/app.js'),
  jobs: () => import('./pages/jobs.js'),
  logs: () => import('./pages/logs.js'),
  requests: () => import('./pages/requests.js'),
  mail: () => import('./pages/mail.js'),
};
const loaded = new Map<string, ComponentType<{ place: any }>>();

function Page({ place }: { place: Place }) {
  const [, setReady] = useState(0);
  const [failed, setFailed] = useState<string>();
  const Component = loaded.get(place.page);
  useEffect(() => {
    if (Component) return;
    PAGES[place.page]().then(
      (module) => {
        loaded.set(place.page, module.default);
        setReady((count) => count + 1);
      },
      (error: Error) => setFailed(error.message),
    );
  }, [place.page]);
  if (failed) return <div class="empty">This page could not load ({failed}). Reload to try again.</div>;
  return Component ? <Component place={place} /> : <div class="empty loading">Loading…</div>;
}

function Connection() {
  const [up, setUp] = useState(eventsConnected);
  useEffect(() => {
    const off = onEvent('status', setUp);
    setUp(eventsConnected()); // it may have opened between the render and now
    return off;
  }, []);
  return (
    <span class={`live ${up ? 'live-on' : 'live-off'}`} title={up ? 'live: changes arrive as they happen' : 'reconnecting to the event stream…'}>
      <i />
      {up ? 'live' : 'offline'}
    </span>
  );
}

const NAV: Array<[Place['page'], string]> = [
  ['overview', 'Overview'],
  ['jobs', 'Jobs'],
  ['logs', 'Logs'],
  ['requests', 'Requests'],
  ['mail', 'Mail'],
];

function Shell({ session, onSignOut }: { session: SessionState; onSignOut: () => void }) {
  const place = usePlace();
  const active = place.page === 'app' ? 'overview' : place.page;
  return (
    <div class="shell" onClick={onLink}>
      <header class="top">
        <a class="brand" href="/">
          <span class="logo" aria-hidden="true">
            ▲
          </span>
          paasmaker
        </a>
        <nav>
          {NAV.map(([page, label]) => (
            <a key={page} href={href({ page } as Place)} class={active === page ? 'active' : ''}>
              {label}
            </a>
          ))}
        </nav>
        <div class="spacer" />
        <Connection />
        {typeof session === 'object' && (
          <span class="who">
            <span class="user" title={session.owner ? 'the platform’s owner' : undefined}>
              {session.user}
            </span>
            <button class="link" onClick={onSignOut}>
              Sign out
            </button>
          </span>
        )}
      </header>
      <main>
        <Page place={place} />
      </main>
      <Toasts />
    </div>
  );
}

function Console() {
  const [session, setSession] = useState<SessionState | 'loading'>('loading');
  const [failure, setFailure] = useState<string>();
  // Who is signed in, again whenever the stream is refused; while the platform does not answer, asked every 3 s.
  const refresh = (): Promise<void> =>
    loadSession().then(
      (state) => {
        setFailure(undefined);
        setSessionState(state);
        setSession(state);
        if (state === 'signed-out') stopEvents();
        else {
          keepTraffic();
          startEvents();
        }
      },
      (error: Error) => {
        setFailure(error.message);
        setTimeout(() => void refresh(), 3000);
      },
    );
  useEffect(() => {
    whenSignedOut(() => void refresh());
    whenEventsClosed(() => setTimeout(() => void refresh(), 1000));
    void refresh();
  }, []);
  if (failure && session === 'loading') return <div class="empty">The platform does not answer ({failure}); trying again…</div>;
  if (session === 'loading') return <div class="empty loading">Loading…</div>;
  if (session === 'signed-out') return <SignIn onSignedIn={() => void refresh()} />;
  return (
    <Shell
      session={session}
      onSignOut={() =>
        void del('/session')
          .catch(() => undefined)
          .then(refresh)
      }
    />
  );
}

render(<Console />, document.getElementById('console')!);
