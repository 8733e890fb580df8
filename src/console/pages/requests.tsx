import { useEffect, useState } from 'preact/hooks';
import { AppPanes, AppSelect, useChosenApp } from '../components/app-picker.js';
import { ApiError, get, seg } from '../lib/api.js';
import { onEvent } from '../lib/events.js';
import { bytes, clock, ms } from '../lib/format.js';
import type { RequestRecordRow } from '../lib/views.js';

/** A request the router recorded (GET /api/v1/apps/{app}/requests, events request.recorded): bodies never, credentials redacted. */
type RecordedRequest = RequestRecordRow;

const KEEP = 500;

function statusClass(status: number | null): string {
  if (status === null) return 'bad';
  return status >= 500 ? 'bad' : status >= 400 ? 'warn' : status >= 300 ? 'info' : 'ok';
}

function Headers({ title, headers }: { title: string; headers: Array<[string, string]> }) {
  return (
    <>
      <h3>{title}</h3>
      {headers.length === 0 ? (
        <div class="muted">none</div>
      ) : (
        <table class="grid headers">
          <tbody>
            {headers.map(([name, value], index) => (
              <tr key={index}>
                <td class="mono strong">{name}</td>
                <td class={`mono ${/redacted/i.test(value) ? 'masked' : ''}`}>{value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function Detail({ request }: { request: RecordedRequest }) {
  return (
    <div class="reqdetail" data-request={request.id}>
      <h2 class="mono">
        <span class={`status status-${statusClass(request.status)}`}>{request.status ?? 'no answer'}</span> {request.method} {request.path}
      </h2>
      <dl class="facts">
        <dt>Time</dt>
        <dd title={request.time}>
          {clock(request.time)}.{String(new Date(request.time).getMilliseconds()).padStart(3, '0')}
        </dd>
        <dt>Duration</dt>
        <dd>{ms(request.durationMs)}</dd>
        <dt>Answered by</dt>
        <dd>
          {request.answeredBy}
          {request.upstream ? ` (${request.upstream})` : ''}
        </dd>
        <dt>Client</dt>
        <dd class="mono">{request.client}</dd>
        <dt>Bytes in/out</dt>
        <dd>
          {bytes(request.bytesIn)} / {bytes(request.bytesOut)}
        </dd>
        {request.error && (
          <>
            <dt>Error</dt>
            <dd class="bad">{request.error}</dd>
          </>
        )}
      </dl>
      <Headers title="Request headers" headers={request.requestHeaders} />
      <Headers title="Response headers" headers={request.responseHeaders} />
      {request.truncated && <p class="muted small">The heads were longer than the 4 KB a record keeps: these are the first headers.</p>}
      <p class="muted small">Bodies are never recorded; Cookie, Authorization and Set-Cookie values are redacted.</p>
    </div>
  );
}

export default function Requests({ place }: { place: { app?: string } }) {
  const { apps, app } = useChosenApp(place.app);
  const [requests, setRequests] = useState<RecordedRequest[]>([]);
  const [missing, setMissing] = useState<string>();
  const [selected, setSelected] = useState<number>();
  const [filter, setFilter] = useState('');

  useEffect(() => {
    if (!app) return;
    setRequests([]);
    setSelected(undefined);
    setMissing(undefined);
    let stopped = false;
    const load = () =>
      get<RecordedRequest[]>(`/apps/${seg(app)}/requests`).then(
        (list) => !stopped && setRequests([...list].sort((a, b) => b.id - a.id).slice(0, KEEP)),
        (error: Error) =>
          !stopped && setMissing(error instanceof ApiError && error.status === 404 && error.code === 'NOT_FOUND' ? 'This platform does not record requests yet.' : error instanceof ApiError && error.hint ? `${error.message} (${error.hint})` : error.message),
      );
    void load();
    const offs = [
      onEvent('open', load),
      // A batch of one app's requests (every 250 ms at most), oldest first.
      onEvent('request.recorded', (batch: { app: string; requests: RecordedRequest[] }) => {
        if (batch.app !== app || !Array.isArray(batch.requests)) return;
        setRequests((list) => {
          const known = new Set(list.map((request) => request.id));
          const fresh = batch.requests.filter((request) => !known.has(request.id)).reverse();
          return fresh.length === 0 ? list : [...fresh, ...list].slice(0, KEEP);
        });
      }),
    ];
    return () => {
      stopped = true;
      offs.forEach((off) => off());
    };
  }, [app]);

  const needle = filter.toLowerCase();
  const shown = requests.filter((request) => !needle || `${request.method} ${request.path} ${request.status ?? ''}`.toLowerCase().includes(needle));
  const current = requests.find((request) => request.id === selected);
  return (
    <div class="page">
      <div class="toolbar">
        <AppSelect page="requests" apps={apps} app={app} />
        <input class="filter" placeholder="filter: method, path, status" value={filter} onInput={(event) => setFilter((event.target as HTMLInputElement).value)} aria-label="filter" spellcheck={false} />
        <span class="spacer" />
        <span class="muted small">{requests.length} recorded, newest first</span>
      </div>
      <AppPanes
        missing={missing}
        app={app}
        list={
          <table class="grid requests">
            <thead>
              <tr>
                <th>Time</th>
                <th>Status</th>
                <th>Method</th>
                <th>Path</th>
                <th class="num">Duration</th>
                <th class="num">Out</th>
              </tr>
            </thead>
            <tbody>
              {shown.length === 0 && (
                <tr>
                  <td colSpan={6} class="muted">
                    No requests yet: open the app, or <code>curl</code> it.
                  </td>
                </tr>
              )}
              {shown.map((request) => (
                <tr key={request.id} class={`clickable ${request.id === selected ? 'selected' : ''}`} onClick={() => setSelected(request.id)} data-path={request.path}>
                  <td class="mono muted">{clock(request.time)}</td>
                  <td>
                    <span class={`status status-${statusClass(request.status)}`}>{request.status ?? '—'}</span>
                  </td>
                  <td class="mono">{request.method}</td>
                  <td class="mono ellipsis" title={request.path}>
                    {request.path}
                  </td>
                  <td class="num mono">{ms(request.durationMs)}</td>
                  <td class="num mono">{bytes(request.bytesOut)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        }
        detail={current ? <Detail request={current} /> : <div class="empty">Pick a request to see its headers.</div>}
      />
    </div>
  );
}
