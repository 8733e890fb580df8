import type { ComponentChildren } from 'preact';
import { href, navigate, type Place } from '../lib/route.js';
import { useLive } from '../lib/use-live.js';
import type { App } from '../lib/views.js';

/** The app a page of one app at a time shows: the one its address names, else the first running, else the first. */
export function useChosenApp(named: string | undefined): { apps: App[]; app: string | undefined; record: App | undefined } {
  const apps = useLive<App[]>('/apps', []).data ?? [];
  const app = named ?? apps.find((candidate) => candidate.state === 'running')?.name ?? apps[0]?.name;
  return { apps, app, record: apps.find((candidate) => candidate.name === app) };
}

/** The app picker of such a page: choosing one goes to the same page for it. */
export function AppSelect({ page, apps, app }: { page: 'requests' | 'mail'; apps: App[]; app: string | undefined }) {
  return (
    <select value={app ?? ''} onChange={(event) => navigate(href({ page, app: (event.target as HTMLSelectElement).value } as Place))} aria-label="app">
      {apps.map((candidate) => (
        <option key={candidate.name} value={candidate.name}>
          {candidate.name}
        </option>
      ))}
    </select>
  );
}

/** Such a page's body: why it has nothing to show, or its list beside the item picked. */
export function AppPanes({ missing, app, list, detail }: { missing: string | undefined; app: string | undefined; list: ComponentChildren; detail: ComponentChildren }) {
  if (missing) return <div class="empty">{missing}</div>;
  if (!app) return <div class="empty">No apps yet.</div>;
  return (
    <div class="split requests-split">
      <section class="card list">{list}</section>
      <section class="card detail">{detail}</section>
    </div>
  );
}
