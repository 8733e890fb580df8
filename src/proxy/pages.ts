import type { RouteTarget } from './routing-table.js';

/** A page the router answers with itself: always a known length. */
export interface Page {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What a page needs to know of the request. */
export interface PageRequest {
  host: string | undefined;
  /** The Accept header: browsers get HTML, everything else plain text. */
  accept: string | undefined;
}

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function wantsHtml(accept: string | undefined): boolean {
  return (accept ?? '').includes('text/html');
}

function page(req: PageRequest, status: number, title: string, text: string, html: string, extra: { refresh?: string; retryAfter?: string } = {}): Page {
  const asHtml = wantsHtml(req.accept);
  const body = asHtml
    ? `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>${extra.refresh ? `<meta http-equiv="refresh" content="${extra.refresh}">` : ''}<style>body{font:15px/1.5 system-ui,sans-serif;max-width:52rem;margin:3rem auto;padding:0 1rem;color:#222}pre{background:#111;color:#eee;padding:1rem;overflow:auto;font-size:13px}code{background:#eee;padding:0 .2rem}.dim{color:#777}</style></head><body>${html}<p class="dim">Paasmaker router</p></body></html>\n`
    : text;
  const headers: Record<string, string> = {
    'content-type': asHtml ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    'x-paasmaker': 'router',
  };
  if (extra.retryAfter) headers['retry-after'] = extra.retryAfter;
  return { status, headers, body };
}

/** An unknown host: what does run here, with links (https ones when the request came over TLS). */
export function notFoundPage(req: PageRequest, targets: RouteTarget[], port: number, scheme: 'http' | 'https' = 'http'): Page {
  const host = req.host ?? '(none)';
  const apps = targets.filter((target) => target.hostnames.length > 0);
  const url = (target: RouteTarget) => `${scheme}://${target.hostnames.find((name) => !name.startsWith('*.'))}:${port}/`;
  const text = [
    `No app answers to ${host}.`,
    apps.length > 0 ? 'Running here:' : 'No app is running. Start one with: paasmaker up',
    ...apps.map((target) => `  ${target.app}/${target.instance}  ${url(target)}`),
    '',
  ].join('\n');
  const html = `<h1>No app answers to <code>${escape(host)}</code></h1>${
    apps.length > 0
      ? `<p>Running here:</p><ul>${apps.map((target) => `<li><a href="${escape(url(target))}">${escape(url(target))}</a> <span class="dim">${escape(target.app)}/${escape(target.instance)}</span></li>`).join('')}</ul>`
      : '<p>No app is running. Start one with <code>paasmaker up</code>.</p>'
  }`;
  return page(req, 404, 'No such app', text, html);
}

const restartSeconds = (target: RouteTarget) => (target.status?.nextRestartAt ? Math.max(0, Math.ceil((target.status.nextRestartAt - Date.now()) / 1000)) : undefined);

/** Why an app cannot answer now, in a line: its state, why, the restart countdown (or the reason given). */
export function unavailableHeadline(target: RouteTarget, reason?: string): string {
  if (reason !== undefined) return reason;
  const seconds = restartSeconds(target);
  const why = target.status?.reason ? `: ${target.status.reason}` : '';
  return `${target.app}/${target.instance} is ${target.status?.state ?? 'stopped'}${why}${seconds !== undefined ? `; restarting in ${seconds} s` : ''}`;
}

/** An app that cannot answer now: its state, the restart countdown and its last log lines. */
export function unavailablePage(req: PageRequest, target: RouteTarget, reason?: string): Page {
  const state = target.status?.state ?? 'stopped';
  const seconds = restartSeconds(target);
  const lines = target.status?.tail?.().slice(-20) ?? [];
  const headline = unavailableHeadline(target, reason);
  const hint = target.status?.hint;
  const text = [headline, ...(hint ? [`hint: ${hint}`] : []), '', ...(lines.length > 0 ? ['Last log lines:', ...lines.map((line) => `  ${line}`)] : ['(no output yet)']), ''].join('\n');
  const html = `<h1>${escape(target.app)} is ${escape(state)}</h1><p>${escape(headline)}</p>${hint ? `<p><strong>Hint:</strong> ${escape(hint)}</p>` : ''}${
    lines.length > 0 ? `<p>Last log lines of <code>${escape(target.instance)}</code>:</p><pre>${lines.map(escape).join('\n')}</pre>` : '<p class="dim">No output yet.</p>'
  }<p class="dim">This page reloads itself.</p>`;
  return page(req, 503, `${target.app} is ${state}`, text, html, { refresh: '2', retryAfter: String(seconds ?? 2) });
}

export function badGatewayPage(req: PageRequest, target: RouteTarget, detail: string): Page {
  const lines = target.status?.tail?.().slice(-20) ?? [];
  const text = [`${target.app}/${target.instance} did not answer: ${detail}`, '', ...lines.map((line) => `  ${line}`), ''].join('\n');
  const html = `<h1>${escape(target.app)} did not answer</h1><p>${escape(detail)}</p>${lines.length > 0 ? `<pre>${lines.map(escape).join('\n')}</pre>` : ''}`;
  return page(req, 502, `${target.app}: bad gateway`, text, html, { refresh: '2' });
}

/** A malformed request or one the router does not serve: a line of text. */
export function plainPage(status: number, text: string): Page {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'x-paasmaker': 'router' }, body: `${text}\n` };
}
