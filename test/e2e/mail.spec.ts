import { readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tcpRequest, userToken } from '../helpers/auth.js';
import { apiRequest, CliProcess, examples, runCli, sleep, stopDaemonAndRemove, tempHome, until } from '../helpers/cli.js';
import { processesUnder } from '../helpers/processes.js';

// The mail catcher as a user meets it: examples/mail-signup sends a sign-up
// e-mail over real SMTP, and the CLI, the API and the event stream show it.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const example = join(examples, 'mail-signup');

/** The sign-up form, posted through the router as a browser posts it. */
function signUp(port: number, name: string, email: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const body = new URLSearchParams({ name, email }).toString();
    const req = request({ host: '127.0.0.1', port, path: '/signup', method: 'POST', headers: { host: 'mail-signup.localhost', 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** An event stream, read until `done` says it has what it waits for (or 20 s). */
function readStream(open: { socketPath?: string; port?: number; token?: string }, path: string): { text: () => string; close: () => void; opened: Promise<number> } {
  let text = '';
  let opened: (status: number) => void = () => {};
  const status = new Promise<number>((resolve) => (opened = resolve));
  const headers: Record<string, string> = { host: open.port ? `127.0.0.1:${open.port}` : 'localhost', ...(open.token ? { authorization: `Bearer ${open.token}` } : {}) };
  const req = request({ ...(open.socketPath ? { socketPath: open.socketPath } : { host: '127.0.0.1', port: open.port }), path, headers, agent: false }, (res) => {
    opened(res.statusCode!);
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (text += chunk));
  });
  req.on('error', () => undefined);
  req.end();
  return { text: () => text, close: () => req.destroy(), opened: status };
}

describe('the mail catcher, end to end', () => {
  it('paasmaker up examples/mail-signup: a sign-up sends an e-mail that paasmaker mail --json lists and mail show prints, its HTML saved to a private file', async () => {
    const { home, cleanup } = tempHome();
    const up = new CliProcess(['up', example], { home });
    cleanups.push(async () => {
      up.signal('SIGINT');
      await up.wait(20_000).catch(() => up.kill());
      for (let i = 0; i < 100 && processesUnder(home).length > 0; i++) await sleep(50);
      cleanup();
    });
    await up.waitForOutput(/open (?:https:\/\/\S+ \(or )?http:\/\/mail-signup\.localhost:\d+\//, 120_000);
    const port = Number(/http:\/\/mail-signup\.localhost:(\d+)\//.exec(up.output)?.[1]);

    // A line break in the name would be a header of its own: the form says so, nothing is sent.
    const broken = await signUp(port, 'Ana\r\nBcc: everyone@example.test', 'ana@example.test');
    expect(broken.status, broken.body).toBe(400);
    expect(broken.body).toContain('A name is one line of text.');

    const answer = await signUp(port, 'Ana', 'ana@example.test');
    expect(answer.status, answer.body).toBe(200);
    expect(answer.body).toContain('We sent a welcome e-mail to ana@example.test');

    const listed = await runCli(['mail', '--json'], { home, cwd: example });
    expect(listed.exitCode, listed.stderr).toBe(0);
    const rows = JSON.parse(listed.stdout) as Array<{ id: string; subject: string; from: string; to: string[]; text: string; service: string }>;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ subject: 'Welcome, Ana!', from: '"Mail sign-up" <welcome@mail-signup.localhost>', to: ['ana@example.test'], service: 'mail' });
    expect(rows[0]!.text).toContain('Hello Ana,');
    expect(rows[0]!.text).toContain('thanks for signing up');

    // up says so where it prints the platform's own lines, without what was sent.
    await up.waitForOutput(`mail-signup/mail caught a message: paasmaker mail show ${rows[0]!.id} mail-signup`);
    expect(up.output).not.toContain('Welcome, Ana!');
    const table = await runCli(['mail', 'mail-signup'], { home });
    expect(table.stdout).toMatch(new RegExp(`^ID\\s+TIME\\s+FROM\\s+TO\\s+SUBJECT\\n${rows[0]!.id}\\s.*ana@example\\.test\\s+Welcome, Ana!`, 'm'));

    const shown = await runCli(['mail', 'show', rows[0]!.id], { home, cwd: example });
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('Subject: Welcome, Ana!');
    expect(shown.stdout).toContain('Hello Ana,');
    const file = /HTML saved to (\S+)/.exec(shown.stdout)?.[1];
    expect(file, shown.stdout).toBe(join(home, 'tmp', `mail-mail-signup-${rows[0]!.id}.html`));
    expect(statSync(file!).mode & 0o777).toBe(0o600);
    // A page that loads nothing, the message's HTML escaped into a sandboxed frame (no meta refresh, form or script of it runs).
    const html = readFileSync(file!, 'utf8');
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'">`);
    expect(html).toMatch(/<iframe sandbox referrerpolicy="no-referrer" srcdoc="[^"]*&lt;b&gt;Ana&lt;\/b&gt;[^"]*"><\/iframe>/);
    expect(html).not.toContain('<b>Ana</b>');
    expect(html.match(/<iframe/g)).toHaveLength(1);

    const missing = await runCli(['mail', 'show', 'ffffffff', 'mail-signup'], { home });
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/no message "ffffffff" for mail-signup/);

    // The messages are files: with the platform stopped, they are still listed.
    up.signal('SIGINT');
    await up.wait(20_000);
    const offline = await runCli(['mail', 'mail-signup', '--json'], { home });
    expect(offline.exitCode, offline.stderr).toBe(0);
    expect((JSON.parse(offline.stdout) as Array<{ id: string }>).map((row) => row.id)).toEqual([rows[0]!.id]);
    const otherService = await runCli(['mail', 'mail-signup', '--service', 'outbox'], { home });
    expect(otherService.stdout.trim()).toBe('No mail from mail-signup in its service outbox.');

    // Clearing asks for --yes, then deletes (here with no platform running: the files themselves).
    const unconfirmed = await runCli(['mail', 'clear', 'mail-signup'], { home });
    expect(unconfirmed.exitCode).toBe(1);
    expect(unconfirmed.stderr).toMatch(/clearing deletes mail-signup's caught mail/);
    expect(unconfirmed.stderr).toMatch(/paasmaker mail clear mail-signup --yes/);
    const cleared = await runCli(['mail', 'clear', 'mail-signup', '--yes'], { home });
    expect(cleared.exitCode, cleared.stderr).toBe(0);
    expect(cleared.stdout.trim()).toBe("Deleted 1 message(s) of mail-signup's caught mail.");
    expect(JSON.parse((await runCli(['mail', 'mail-signup', '--json'], { home })).stdout)).toEqual([]);
  }, 180_000);

  it('the API: list, message, HTML under a CSP that loads nothing, raw source, clearing; 403 without SERVICE_VIEW; mail.received on the event stream only for those who may read mail', async () => {
    const { home, cleanup } = tempHome();
    cleanups.push(() => stopDaemonAndRemove(home, cleanup));
    const started = await runCli(['daemon', 'start', '--api-port', '0'], { home });
    expect(started.exitCode, started.stderr).toBe(0);
    const apiPort = (JSON.parse((await runCli(['daemon', 'status', '--json'], { home })).stdout) as { apiPort: number }).apiPort;
    const up = await runCli(['up', '-d', example], { home });
    expect(up.exitCode, up.stderr).toBe(0);
    const socket = join(home, 'paasmaker.sock');
    const { proxyPort } = (await apiRequest(socket, 'GET', '/api/v1/status')).json as { proxyPort: number };

    // A role that sees the app but not its services.
    expect((await apiRequest(socket, 'POST', '/api/v1/roles', { body: { name: 'watcher', permissions: ['WORKSPACE_VIEW'] } })).status).toBe(200);
    const watcher = await userToken(home, 'w', 'watcher');
    const viewer = await userToken(home, 'v', 'viewer');

    const owners = readStream({ socketPath: socket }, '/api/v1/events?app=mail-signup');
    const viewers = readStream({ port: apiPort, token: viewer }, '/api/v1/events');
    const watchers = readStream({ port: apiPort, token: watcher }, '/api/v1/events');
    cleanups.push(() => [owners, viewers, watchers].forEach((stream) => stream.close()));
    expect(await Promise.all([owners.opened, viewers.opened, watchers.opened])).toEqual([200, 200, 200]);

    expect((await signUp(proxyPort, 'Bo', 'bo@example.test')).status).toBe(200);
    await until(() => owners.text().includes('event: mail.received'), 20_000, 'mail.received on the owner’s stream');
    const event = JSON.parse(/event: mail\.received\ndata: (.*)\n/.exec(owners.text())![1]!) as { app: string; service: string; id: string; subject: string; from: string };
    expect(event).toMatchObject({ app: 'mail-signup', service: 'mail', subject: 'Welcome, Bo!', from: '"Mail sign-up" <welcome@mail-signup.localhost>' });
    await until(() => viewers.text().includes('event: mail.received'), 20_000, 'mail.received on the viewer’s stream');
    // Later events reach the watcher's stream, never the mail one.
    await runCli(['restart', 'mail-signup'], { home });
    await until(() => watchers.text().includes('event: instance.state'), 20_000, 'the watcher’s stream carries the app’s events');
    expect(watchers.text()).not.toContain('mail.received');

    const list = await apiRequest(socket, 'GET', '/api/v1/apps/mail-signup/mail');
    expect(list.json).toEqual([expect.objectContaining({ id: event.id, subject: 'Welcome, Bo!', to: ['bo@example.test'] })]);
    expect(Object.keys((list.json as object[])[0]!).sort()).toEqual(['app', 'attachments', 'from', 'id', 'service', 'size', 'subject', 'text', 'time', 'to']);
    expect((await apiRequest(socket, 'GET', '/api/v1/apps/mail-signup/mail?service=other')).json).toEqual([]);
    // A second sign-up: ?limit= answers the newest only; the CLI's --limit the same.
    expect((await signUp(proxyPort, 'Di', 'di@example.test')).status).toBe(200);
    await until(async () => ((await apiRequest(socket, 'GET', '/api/v1/apps/mail-signup/mail')).json as unknown[]).length === 2, 20_000, 'the second message listed');
    expect(((await apiRequest(socket, 'GET', '/api/v1/apps/mail-signup/mail?limit=1')).json as Array<{ subject: string }>).map((row) => row.subject)).toEqual(['Welcome, Di!']);
    expect((await apiRequest(socket, 'GET', '/api/v1/apps/mail-signup/mail?limit=0')).status).toBe(400);
    const limited = await runCli(['mail', 'mail-signup', '--json', '--limit', '1'], { home });
    expect((JSON.parse(limited.stdout) as Array<{ subject: string }>).map((row) => row.subject)).toEqual(['Welcome, Di!']);
    const message = await apiRequest(socket, 'GET', `/api/v1/apps/mail-signup/mail/${event.id}`);
    expect(message.json).toMatchObject({ id: event.id, html: true, attachments: [], cc: [] });
    expect(message.json.text).toContain('Hello Bo,');
    expect(message.json.headers).toContainEqual(['Subject', 'Welcome, Bo!']);

    const html = await tcpRequest(apiPort, 'GET', `/api/v1/apps/mail-signup/mail/${event.id}/html`, { token: viewer });
    expect(html.status).toBe(200);
    expect(html.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(html.headers['content-security-policy']).toBe("default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox");
    expect(html.headers['x-content-type-options']).toBe('nosniff');
    expect(html.text).toContain('<b>Bo</b>');
    const raw = await tcpRequest(apiPort, 'GET', `/api/v1/apps/mail-signup/mail/${event.id}/raw`, { token: viewer });
    expect(raw.headers['content-type']).toBe('message/rfc822');
    expect(raw.text).toMatch(/^Subject: Welcome, Bo!\r$/m);

    for (const path of ['/api/v1/apps/mail-signup/mail', `/api/v1/apps/mail-signup/mail/${event.id}`, `/api/v1/apps/mail-signup/mail/${event.id}/html`, `/api/v1/apps/mail-signup/mail/${event.id}/raw`]) {
      const refused = await tcpRequest(apiPort, 'GET', path, { token: watcher });
      expect({ path, status: refused.status, error: refused.json?.error }).toEqual({ path, status: 403, error: 'user "w" lacks the permission SERVICE_VIEW in workspace "default"' });
    }
    expect((await tcpRequest(apiPort, 'DELETE', '/api/v1/apps/mail-signup/mail', { token: viewer, body: { confirm: 'mail-signup' } })).status).toBe(403);
    expect((await apiRequest(socket, 'GET', '/api/v1/apps/mail-signup/mail/00000000')).json).toMatchObject({ code: 'MAIL_NOT_FOUND' });

    expect((await apiRequest(socket, 'DELETE', '/api/v1/apps/mail-signup/mail', { body: {} })).json).toMatchObject({ code: 'CONFIRMATION_NEEDED' });
    expect((await apiRequest(socket, 'DELETE', '/api/v1/apps/mail-signup/mail', { body: { confirm: 'mail-signup' } })).json).toEqual({ app: 'mail-signup', deleted: 2 });
    expect((await apiRequest(socket, 'GET', '/api/v1/apps/mail-signup/mail')).json).toEqual([]);
  }, 180_000);
});
