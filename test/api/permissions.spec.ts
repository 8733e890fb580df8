import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBinary } from '../../src/services/binaries.js';
import { tcpRequest, userToken } from '../helpers/auth.js';
import { apiRequest, runCli, stopDaemonAndRemove, tempHome } from '../helpers/cli.js';

// The API enforces every permission: a viewer's token, walked over every
// route openapi.json lists, changes nothing and never reads a credential.

const SECRET = `s3cret-${process.pid}-${Date.now()}`;
const redis = Boolean(findBinary(['redis-server']));

let home: string;
let project: string;
let port: number;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const temp = tempHome();
  home = temp.home;
  project = mkdtempSync(join(tmpdir(), 'pm-permissions-'));
  writeFileSync(
    join(project, 'paasmaker.yml'),
    [
      'application:',
      '  name: vault',
      'instances:',
      '  web:',
      `    command: node -e "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT, '127.0.0.1')"`,
      '    environment:',
      `      SMTP_PASSWORD: ${SECRET}`,
      `      DB_PASS: pass-${SECRET}`,
      `      MYSQL_PWD: pwd-${SECRET}`,
      `      password: lower-${SECRET}`,
      `      JDBC: "jdbc:mysql://db.example:3306/app?user=app&password=jdbc-${SECRET}"`,
      `      REPORT_URL: "https://reports.example/feed?format=csv&api_key=query-${SECRET}"`,
      '    crons:',
      '      - {name: hello, schedule: "0 0 1 1 *", command: "echo hello"}',
      'services:',
      '  notes:',
      '    plugin: sqlite',
      '  settings:',
      '    plugin: parameters',
      '    greeting: hello',
      `    api_key: key-${SECRET}`,
      `    webhook_secret: hook-${SECRET}`,
      `    token: token-${SECRET}`,
      `    Password: upper-${SECRET}`,
      ...(redis ? ['  cache:', '    plugin: redis'] : []),
      '',
    ].join('\n'),
  );
  cleanup = async () => {
    await stopDaemonAndRemove(home, temp.cleanup);
    rmSync(project, { recursive: true, force: true });
  };
  const started = await runCli(['daemon', 'start', '--api-port', '0'], { home });
  expect(started.exitCode, started.stderr).toBe(0);
  port = (JSON.parse((await runCli(['daemon', 'status', '--json'], { home })).stdout) as { apiPort: number }).apiPort;
  const up = await runCli(['up', '-d', project], { home });
  expect(up.exitCode, up.stderr).toBe(0);
}, 120_000);

afterAll(async () => cleanup?.());

/** The first bytes of an event stream over TCP, read for a moment. */
function streamText(path: string, token: string, ms: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host: `127.0.0.1:${port}`, authorization: `Bearer ${token}` }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      setTimeout(() => {
        req.destroy();
        resolve({ status: res.statusCode!, text });
      }, ms);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('a viewer', () => {
  it('gets 403 on every action route of openapi.json and never sees a credential in any answer', async () => {
    const socket = join(home, 'paasmaker.sock');
    // The credentials, as the socket's owner sees them: every value the masked environment hides.
    const masked = (await apiRequest(socket, 'GET', '/api/v1/apps/vault/env')).json as Record<string, string>;
    const revealed = (await apiRequest(socket, 'GET', '/api/v1/apps/vault/env?show_secrets=true')).json as Record<string, string>;
    const secrets = Object.keys(revealed)
      .filter((key) => masked[key] !== revealed[key])
      .flatMap((key) => [revealed[key]!, ...[...revealed[key]!.matchAll(/:\/\/[^:/@]*:([^@]+)@/g)].map((match) => decodeURIComponent(match[1]!))]);
    expect(secrets).toContain(SECRET);
    if (redis) expect(Object.keys(revealed).filter((key) => masked[key] !== revealed[key])).toContain('REDIS_URL');

    const viewer = await userToken(home, 'v', 'viewer');
    const admin = userInfo().username;
    const adminToken = (await apiRequest(socket, 'POST', '/api/v1/tokens', { body: { user: admin, name: 'walk' } })).json as { id: string };
    const job = ((await apiRequest(socket, 'GET', '/api/v1/jobs?app=vault')).json as Array<{ id: string }>)[0]!.id;
    const document = (await tcpRequest(port, 'GET', '/api/v1/openapi.json', { token: viewer })).json as { paths: Record<string, Record<string, unknown>> };
    const values: Record<string, string> = { app: 'vault', instance: 'web', index: '0', name: 'hello', service: 'notes', user: admin, role: 'admin', workspace: 'default' };
    // What each action is sent with: what the caller may do for themselves is asked for someone else.
    const bodies: Record<string, unknown> = {
      'POST /api/v1/tokens': { user: admin },
      'POST /api/v1/users/{user}/password': { password: 'a-new-password' },
      'POST /api/v1/apps': { directory: project },
      'POST /api/v1/environment': { directory: project },
    };
    const routes = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => ({ method: method.toUpperCase(), path })));
    expect(routes.length).toBeGreaterThan(40);
    const seen: string[] = [];
    for (const { method, path } of routes) {
      const route = `${method} ${path}`;
      if (route === 'POST /api/v1/session' || route === 'DELETE /api/v1/session') continue;
      const target = path.replace(/\{(\w+)\}/g, (_, name: string) => (name === 'id' ? (path.startsWith('/api/v1/tokens') ? adminToken.id : job) : (values[name] ?? 'x')));
      if (path === '/api/v1/events') {
        const stream = await streamText(target, viewer, 500);
        expect(stream.status, route).toBe(200);
        for (const secret of secrets) expect(stream.text.includes(secret), `${route} carries a credential`).toBe(false);
        continue;
      }
      const answers = method === 'GET' ? [await tcpRequest(port, method, target, { token: viewer })] : [await tcpRequest(port, method, target, { token: viewer, body: bodies[route] ?? {} })];
      if (path === '/api/v1/apps/{app}/env') answers.push(await tcpRequest(port, 'GET', `${target}?show_secrets=true`, { token: viewer }));
      for (const answer of answers) {
        if (method === 'GET') expect([200, 403, 404], `${route}: ${answer.text}`).toContain(answer.status);
        else expect({ route, status: answer.status, code: answer.json?.code }).toEqual({ route, status: 403, code: 'FORBIDDEN' });
        for (const secret of secrets) expect(answer.text.includes(secret), `${route} answered a credential: ${answer.text}`).toBe(false);
      }
      seen.push(route);
    }
    // The viewer did see what is theirs to see.
    expect((await tcpRequest(port, 'GET', '/api/v1/apps', { token: viewer })).json.map((app: { name: string }) => app.name)).toEqual(['vault']);
    expect((await tcpRequest(port, 'GET', '/api/v1/apps/vault/env?show_secrets=true', { token: viewer })).json.SMTP_PASSWORD).toBe('********');
    expect(seen).toEqual(expect.arrayContaining(['POST /api/v1/apps/{app}/restart', 'DELETE /api/v1/services/{app}/{service}', 'POST /api/v1/daemon/stop', 'POST /api/v1/session/links', 'GET /api/v1/services']));
    // Nothing changed: the app runs, the admin's token still works.
    expect((await apiRequest(socket, 'GET', '/api/v1/apps/vault')).json).toMatchObject({ state: 'running' });
    expect((await apiRequest(socket, 'GET', `/api/v1/tokens?user=${admin}`)).json.map((token: { id: string }) => token.id)).toContain(adminToken.id);
  }, 120_000);

  it("sees no parameters service's secret, nor a lower-case or abbreviated one, in the environment (PM_SERVICES too) or the manifest", async () => {
    const viewer = await userToken(home, 'v', 'viewer');
    const env = await tcpRequest(port, 'GET', '/api/v1/apps/vault/env?show_secrets=true', { token: viewer });
    const manifest = await tcpRequest(port, 'GET', '/api/v1/apps/vault/manifest', { token: viewer });
    expect([env.status, manifest.status]).toEqual([200, 200]);
    for (const answer of [env, manifest]) {
      expect(answer.text).not.toContain(SECRET);
      expect(answer.text).toContain('hello'); // what is not secret still shows
    }
    const services = JSON.parse(env.json.PM_SERVICES as string) as Record<string, Record<string, string>>;
    expect(services.settings).toMatchObject({ greeting: 'hello', api_key: '********', webhook_secret: '********', token: '********', Password: '********' });
    expect(env.json).toMatchObject({ DB_PASS: '********', MYSQL_PWD: '********', password: '********', JDBC: 'jdbc:mysql://db.example:3306/app?user=app&password=********' });
    // The socket's owner sees them all.
    const revealed = (await apiRequest(join(home, 'paasmaker.sock'), 'GET', '/api/v1/apps/vault/env?show_secrets=true')).json as Record<string, string>;
    expect(JSON.parse(revealed.PM_SERVICES!).settings.api_key).toBe(`key-${SECRET}`);
  });

  it('names the permission it lacks, and an unknown or revoked token gets 401', async () => {
    const viewer = await userToken(home, 'v', 'viewer');
    const refused = await tcpRequest(port, 'POST', '/api/v1/apps/vault/restart', { token: viewer, body: {} });
    expect(refused).toMatchObject({ status: 403, json: { code: 'FORBIDDEN', error: 'user "v" lacks the permission APPLICATION_DEPLOY in workspace "default"' } });
    expect((await tcpRequest(port, 'GET', '/api/v1/apps', { token: 'pm_nosuchtoken' })).status).toBe(401);
    const created = JSON.parse((await runCli(['token', 'create', '--user', 'v', '--json'], { home })).stdout) as { id: string; token: string };
    expect((await tcpRequest(port, 'GET', '/api/v1/apps', { token: created.token })).status).toBe(200);
    expect((await runCli(['token', 'revoke', created.id], { home })).exitCode).toBe(0);
    expect((await tcpRequest(port, 'GET', '/api/v1/apps', { token: created.token })).json).toMatchObject({ code: 'UNAUTHORIZED', error: 'this API token is unknown or revoked' });
  });
});

describe('exporting and importing data', () => {
  it('a viewer cannot dump (403); a role with SERVICE_EXPORT dumps and downloads, and without SERVICE_IMPORT cannot restore', async () => {
    const viewer = await userToken(home, 'v', 'viewer');
    expect(await tcpRequest(port, 'POST', '/api/v1/apps/vault/dump', { token: viewer, body: {} })).toMatchObject({ status: 403, json: { code: 'FORBIDDEN', error: 'user "v" lacks the permission SERVICE_EXPORT in workspace "default"' } });
    expect((await tcpRequest(port, 'GET', '/api/v1/apps/vault/snapshots', { token: viewer })).status).toBe(403);

    const role = await runCli(['role', 'add', 'exporter', 'WORKSPACE_VIEW', 'SERVICE_EXPORT'], { home });
    expect(role.exitCode, role.stderr).toBe(0);
    const exporter = await userToken(home, 'e', 'exporter');
    const made = await tcpRequest(port, 'POST', '/api/v1/apps/vault/dump?wait=30', { token: exporter, body: { service: 'notes' } });
    expect(made.json).toMatchObject({ state: 'success', service: 'notes', format: 'sqlite' });
    const download = await tcpRequest(port, 'GET', made.json.download, { token: exporter });
    expect(download.status).toBe(200);
    expect(download.headers['content-type']).toBe('application/octet-stream');
    expect(download.headers['content-disposition']).toMatch(/^attachment; filename="vault-notes-\d{8}-\d{6}\.sqlite\.gz"$/);
    // Downloaded once: then it is gone.
    expect((await tcpRequest(port, 'GET', made.json.download, { token: exporter })).json).toMatchObject({ code: 'DUMP_NOT_FOUND' });
    const restore = await tcpRequest(port, 'POST', '/api/v1/apps/vault/restore', { token: exporter, body: {} });
    expect(restore).toMatchObject({ status: 403, json: { error: 'user "e" lacks the permission SERVICE_IMPORT in workspace "default"' } });
    expect((await tcpRequest(port, 'POST', '/api/v1/apps/vault/snapshots/x/restore', { token: exporter, body: { confirm: 'x' } })).status).toBe(403);
  }, 60_000);
});

describe('querying data', () => {
  it('a viewer may describe a service but not query it (403); a role with SERVICE_EXPORT reads rows, and a write is refused (READ_ONLY) with the table left as it was', async () => {
    const file = join(home, 'data', 'vault', 'notes.sqlite');
    const db = new Database(file);
    db.exec("CREATE TABLE IF NOT EXISTS note (id INTEGER PRIMARY KEY, body TEXT NOT NULL); INSERT OR REPLACE INTO note VALUES (1, 'first'), (2, 'second');");
    db.close();
    const count = () => {
      const reader = new Database(file, { readonly: true });
      try {
        return (reader.prepare('SELECT COUNT(*) AS n FROM note').get() as { n: number }).n;
      } finally {
        reader.close();
      }
    };
    const viewer = await userToken(home, 'v', 'viewer');
    expect(await tcpRequest(port, 'POST', '/api/v1/services/vault/notes/query', { token: viewer, body: { query: 'SELECT * FROM note' } })).toMatchObject({
      status: 403,
      json: { code: 'FORBIDDEN', error: 'user "v" lacks the permission SERVICE_EXPORT in workspace "default"' },
    });
    const schema = await tcpRequest(port, 'GET', '/api/v1/services/vault/notes/schema', { token: viewer });
    expect(schema.status, schema.text).toBe(200);
    expect(schema.json.tables).toEqual([{ name: 'note', kind: 'table', rowEstimate: 2, columns: [{ name: 'id', type: 'INTEGER', nullable: false, primaryKey: true }, { name: 'body', type: 'TEXT', nullable: false, primaryKey: false }] }]);

    const role = await runCli(['role', 'add', 'querier', 'WORKSPACE_VIEW', 'SERVICE_VIEW', 'SERVICE_EXPORT'], { home });
    expect(role.exitCode, role.stderr).toBe(0);
    const querier = await userToken(home, 'q', 'querier');
    const rows = await tcpRequest(port, 'POST', '/api/v1/services/vault/notes/query', { token: querier, body: { query: 'SELECT id, body FROM note ORDER BY id', limit: 1 } });
    expect(rows.json).toMatchObject({ columns: ['id', 'body'], rows: [[1, 'first']], truncated: true });
    const drop = await tcpRequest(port, 'POST', '/api/v1/services/vault/notes/query', { token: querier, body: { query: 'DROP TABLE note' } });
    expect(drop).toMatchObject({ status: 403, json: { code: 'READ_ONLY', error: expect.stringContaining('refused "DROP TABLE"') } });
    expect(count()).toBe(2);
  }, 60_000);
});
