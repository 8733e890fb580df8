import { useEffect, useState } from 'preact/hooks';
import { AppPanes, AppSelect, useChosenApp } from '../components/app-picker.js';
import { act } from '../components/toasts.js';
import { ApiError, del, get, seg } from '../lib/api.js';
import { onEvent } from '../lib/events.js';
import { bytes, clock } from '../lib/format.js';
import { can, NEEDS } from '../lib/session.js';
import { workspaceOf, type MailMessageRow, type MailRow } from '../lib/views.js';

/** One caught message: its headers and text; its HTML in a sandboxed frame that the API's CSP keeps from loading anything. */
function Message({ app, id }: { app: string; id: string }) {
  const [message, setMessage] = useState<MailMessageRow>();
  const [failed, setFailed] = useState<string>();
  const [view, setView] = useState<'text' | 'html' | 'headers'>('text');
  useEffect(() => {
    setMessage(undefined);
    setFailed(undefined);
    let stopped = false;
    get<MailMessageRow>(`/apps/${seg(app)}/mail/${seg(id)}`).then(
      (value) => {
        if (stopped) return;
        setMessage(value);
        setView(value.text ? 'text' : value.html ? 'html' : 'headers');
      },
      (error: Error) => !stopped && setFailed(error.message),
    );
    return () => {
      stopped = true;
    };
  }, [app, id]);
  if (failed) return <div class="empty">{failed}</div>;
  if (!message) return <div class="empty loading">Loading…</div>;
  return (
    <div class="maildetail" data-mail={message.id}>
      <h2>{message.subject || '(no subject)'}</h2>
      <dl class="facts">
        <dt>From</dt>
        <dd title={message.from}>{message.from}</dd>
        <dt>To</dt>
        <dd title={message.to.join(', ')}>{message.to.join(', ')}</dd>
        {message.cc.length > 0 && (
          <>
            <dt>Cc</dt>
            <dd>{message.cc.join(', ')}</dd>
          </>
        )}
        <dt>Date</dt>
        <dd title={message.date ?? ''}>{message.date ? new Date(message.date).toLocaleString() : '—'}</dd>
        <dt>Service</dt>
        <dd class="mono">{message.service}</dd>
        <dt>Size</dt>
        <dd>{bytes(message.size)}</dd>
      </dl>
      <div class="toolbar tabs">
        {(['text', 'html', 'headers'] as const).map((tab) => (
          <button key={tab} class={view === tab ? 'primary' : ''} disabled={tab === 'html' && !message.html} onClick={() => setView(tab)}>
            {tab === 'text' ? 'Text' : tab === 'html' ? 'HTML' : 'Headers'}
          </button>
        ))}
        <span class="spacer" />
        <a class="button" href={`/api/v1/apps/${seg(app)}/mail/${seg(message.id)}/raw`} target="_blank" rel="noreferrer">
          Source
        </a>
      </div>
      {view === 'text' && <pre class="mailtext">{message.text ?? 'No text part.'}</pre>}
      {/* No allow-scripts, no allow-same-origin; the answer's CSP loads nothing remote either. */}
      {view === 'html' && message.html && <iframe class="mailhtml" sandbox="" referrerpolicy="no-referrer" title="the message's HTML" src={`/api/v1/apps/${seg(app)}/mail/${seg(message.id)}/html`} />}
      {view === 'headers' && (
        <table class="grid headers">
          <tbody>
            {message.headers.map(([name, value], index) => (
              <tr key={index}>
                <td class="mono strong">{name}</td>
                <td class="mono">{value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {message.attachments.length > 0 && (
        <>
          <h3>Attachments</h3>
          <ul class="attachments">
            {message.attachments.map((attachment, index) => (
              <li key={index}>
                <span class="mono">{attachment.name ?? '(no name)'}</span> <span class="muted">{attachment.type}</span> {bytes(attachment.size)}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

/** The mail an app sent to its mail services (the mail catcher), newest first, live on mail.received. */
export default function Mail({ place }: { place: { app?: string } }) {
  const { apps, app, record } = useChosenApp(place.app);
  const [rows, setRows] = useState<MailRow[]>([]);
  const [missing, setMissing] = useState<string>();
  const [selected, setSelected] = useState<string>();

  const load = (name: string, stopped: () => boolean) =>
    get<MailRow[]>(`/apps/${seg(name)}/mail`).then(
      (list) => {
        if (stopped()) return;
        setRows(list);
        setMissing(undefined);
      },
      (error: Error) => !stopped() && setMissing(error instanceof ApiError && error.hint ? `${error.message} (${error.hint})` : error.message),
    );

  useEffect(() => {
    if (!app) return;
    setRows([]);
    setSelected(undefined);
    setMissing(undefined);
    let stopped = false;
    const reload = () => void load(app, () => stopped);
    reload();
    // A burst of messages (an app sending a newsletter) reloads the list once, not once a message.
    let pending: ReturnType<typeof setTimeout> | undefined;
    const soon = () => {
      if (pending === undefined) {
        pending = setTimeout(() => {
          pending = undefined;
          reload();
        }, 500);
      }
    };
    const offs = [onEvent('open', reload), onEvent('mail.received', (event: { app: string }) => event.app === app && soon())];
    return () => {
      stopped = true;
      clearTimeout(pending);
      offs.forEach((off) => off());
    };
  }, [app]);

  const current = selected ?? rows[0]?.id;
  const clear = () => {
    if (!app || !confirm(`Delete the ${rows.length} message(s) ${app} sent?`)) return;
    void act(`clear ${app}'s mail`, () => del<{ deleted: number }>(`/apps/${seg(app)}/mail`, { confirm: app }), (done) => `${done.deleted} message(s) deleted`).then(() => load(app, () => false));
  };
  return (
    <div class="page">
      <div class="toolbar">
        <AppSelect page="mail" apps={apps} app={app} />
        <span class="spacer" />
        <span class="muted small">{rows.length} caught, newest first; never delivered</span>
        {app && rows.length > 0 && can(NEEDS.deploy, workspaceOf(record)) && (
          <button class="danger" onClick={clear}>
            Clear
          </button>
        )}
      </div>
      <AppPanes
        missing={missing}
        app={app}
        list={
          <table class="grid mail">
            <thead>
              <tr>
                <th>Time</th>
                <th>From</th>
                <th>To</th>
                <th>Subject</th>
              </tr>
            </thead>
            <tbody>
              {rows.length === 0 && (
                <tr>
                  <td colSpan={4} class="muted">
                    No mail yet: give the app a mail service (<code>services: {'{mail: {plugin: mail}}'}</code>) and send to <code>$SMTP_HOST:$SMTP_PORT</code>.
                  </td>
                </tr>
              )}
              {rows.map((row) => (
                <tr key={row.id} class={`clickable ${row.id === current ? 'selected' : ''}`} onClick={() => setSelected(row.id)} data-mail-row={row.id}>
                  <td class="mono muted">{clock(row.time)}</td>
                  <td class="ellipsis" title={row.from}>
                    {row.from}
                  </td>
                  <td class="ellipsis" title={row.to.join(', ')}>
                    {row.to.join(', ')}
                  </td>
                  <td class="ellipsis" title={row.subject}>
                    {row.subject || '(no subject)'}
                    {row.attachments > 0 && <span class="muted small"> 📎{row.attachments}</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        }
        detail={app && current ? <Message app={app} id={current} /> : <div class="empty">Pick a message to read it.</div>}
      />
    </div>
  );
}
