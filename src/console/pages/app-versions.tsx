import { useEffect, useState } from 'preact/hooks';
import { StateBadge } from '../components/state.js';
import { act } from '../components/toasts.js';
import { post, seg } from '../lib/api.js';
import { onEvent } from '../lib/events.js';
import { ago, bytes, DASH } from '../lib/format.js';
import { can, NEEDS } from '../lib/session.js';
import { useLive, useTick } from '../lib/use-live.js';
import type { VersionRow } from '../lib/views.js';
import { primaryUrl } from '../../shared/app-urls.js';

/** The action running now (one at a time): its button says so, with the step of the app's job that runs. */
interface Busy {
  key: string;
  doing: string;
}

/** The title of the app's job step running now ("start v2", "switch"), while `active`. */
function useRunningStep(app: string, active: boolean): string | undefined {
  const [step, setStep] = useState<string>();
  useEffect(() => {
    setStep(undefined);
    if (!active) return;
    return onEvent('job.update', (event: { app: string; title: string; state: string; parent?: string }) => {
      if (event.app === app && event.parent && event.state === 'running') setStep(event.title);
    });
  }, [app, active]);
  return step;
}

/** What a version is made of, as one line: "3f2a9c1 Fix the cart total", or the archive or folder it came from. */
function Origin({ row }: { row: VersionRow }) {
  const name = row.source.split(/[\\/]/).filter(Boolean).pop() ?? row.source;
  return (
    <>
      {row.commit ? (
        <span class="mono" title={row.commit}>
          {row.commit.slice(0, 7)}
        </span>
      ) : (
        <span class="muted" title={row.source}>
          {row.kind} {name}
        </span>
      )}{' '}
      <span title={row.ref ? `${row.source} @ ${row.ref}` : row.source}>{row.message ?? ''}</span>
      {row.dirty && <span class="tag" title="deployed with --allow-dirty: uncommitted changes included">dirty</span>}
      {row.error && <div class="error small">{row.error}</div>}
    </>
  );
}

/**
 * An app's versions, newest first: what each is, whether it serves, and —
 * for those who may deploy — switching to one, rolling back, and previews
 * on vN.APP.localhost. Live: version.changed and the app's jobs reload it.
 */
export function Versions({ app, workspace }: { app: string; workspace: string }) {
  useTick(5000); // "3m ago" moves on; measured from the render's clock, never the tick's (a version made since would be in the future)
  const versions = useLive<VersionRow[]>(`/apps/${seg(app)}/versions`, ['version.changed', 'job.update'], (event: { app?: string }) => event.app === app, 300);
  const [busy, setBusy] = useState<Busy>();
  const step = useRunningStep(app, busy !== undefined);
  const allowed = can(NEEDS.deploy, workspace);
  const rows = versions.data ?? [];
  const previous = rows.find((row) => row.previous);
  const base = `/apps/${seg(app)}`;

  const run = (key: string, doing: string, call: () => Promise<VersionRow>, said: (row: VersionRow) => string) => {
    setBusy({ key, doing });
    void act(key, call, said).then(() => {
      setBusy(undefined);
      versions.reload();
    });
  };
  /** A button of an action: disabled while any runs; the running one says what it does. */
  const button = (key: string, label: string, doing: string, call: () => Promise<VersionRow>, said: (row: VersionRow) => string, primary = false) => (
    <button class={primary ? 'primary' : ''} disabled={busy !== undefined} aria-busy={busy?.key === key} onClick={() => run(key, doing, call, said)}>
      {busy?.key === key ? `${doing}…${step ? ` ${step}` : ''}` : label}
    </button>
  );

  return (
    <section class="card" aria-label="versions">
      <h2>
        Versions
        <span class="spacer" />
        {allowed && previous && button(`roll back ${app}`, `Roll back to v${previous.version}`, 'Rolling back', () => post<VersionRow>(`${base}/rollback`), (row) => `${app}: v${row.version} is current`)}
      </h2>
      {versions.error && !versions.data ? (
        <div class="muted">{versions.error.message}</div>
      ) : rows.length === 0 ? (
        <div class="muted">
          {versions.data ? (
            <>
              No versions yet: <code>paasmaker deploy</code> in the app's repository makes one (or <code>paasmaker git init {app}</code>, then <code>git push</code>).
            </>
          ) : (
            'Loading…'
          )}
        </div>
      ) : (
        <table class="grid versions">
          <thead>
            <tr>
              <th>Version</th>
              <th>State</th>
              <th>Commit</th>
              <th>Author</th>
              <th>Created</th>
              <th class="num">Size</th>
              <th>URL</th>
              {allowed && <th />}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => {
              const n = row.version;
              const ready = row.state === 'stopped' || row.state === 'running';
              return (
                <tr key={n} data-version={n} data-current={String(row.current)} class={row.state === 'failed' ? 'row-bad' : ''}>
                  <td class="version">
                    <span class="strong">v{n}</span>
                    {row.current && <span class="tag tag-on">current</span>}
                    {row.previous && <span class="tag">previous</span>}
                    {row.serving && <span class="tag tag-on">serves {app}.localhost</span>}
                  </td>
                  <td>
                    <StateBadge state={row.state} />
                  </td>
                  <td class="origin">
                    <Origin row={row} />
                  </td>
                  <td title={row.author ?? undefined}>{row.author?.replace(/\s*<[^>]*>$/, '') || DASH}</td>
                  <td class="muted" title={row.created}>
                    {ago(row.created)}
                  </td>
                  <td class="num mono">{bytes(row.size)}</td>
                  <td class="mono">
                    {primaryUrl(row) && row.state === 'running' ? (
                      <a href={primaryUrl(row)!} title={primaryUrl(row)!} target="_blank" rel="noreferrer">
                        {new URL(primaryUrl(row)!).hostname}
                      </a>
                    ) : (
                      <span class="muted">{DASH}</span>
                    )}
                  </td>
                  {allowed && (
                    <td class="actions">
                      {!row.current && ready && button(`switch ${app} to v${n}`, 'Switch to', 'Switching', () => post<VersionRow>(`${base}/switch`, { version: n }), (done) => `${app}: v${done.version} is current`, true)}{' '}
                      {!row.current && row.state === 'stopped' && button(`start v${n}`, 'Start preview', 'Starting', () => post<VersionRow>(`${base}/versions/${n}/start`), (done) => `v${done.version} answers on ${primaryUrl(done) ?? `v${n}.${app}.localhost`}`)}
                      {!row.current && row.state === 'running' && button(`stop v${n}`, 'Stop preview', 'Stopping', () => post<VersionRow>(`${base}/versions/${n}/stop`), (done) => `v${done.version}: ${done.state}`)}
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
