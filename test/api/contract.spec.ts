import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRequest, getByHost, runCli, stopDaemonAndRemove, tempHome } from '../helpers/cli.js';
import { sendMail } from '../helpers/smtp.js';

// The API's contract: a real daemon answers every route its OpenAPI document
// lists, and every answer validates against the schema the document gives.

/** One request of a case; `status` is the answer expected (200 unless said). */
interface Call {
  path: string;
  body?: unknown;
  /** A file sent as the body (application/octet-stream) instead of JSON. */
  upload?: string;
  status?: number;
}

interface Context {
  socket: string;
  project: string;
  /** The id of a job the platform has run. */
  job: () => Promise<string>;
  /** The id of a message the app's mail service caught. */
  mail: () => Promise<string>;
}

/**
 * Every route of openapi.json, in the order they run (the last ones stop
 * things): "METHOD /path/{param}" → the request(s) that exercise it. A route
 * added to the API without a line here fails the test.
 */
const CASES: Record<string, (context: Context) => Call | Call[] | Promise<Call | Call[]>> = {
  'POST /api/v1/apps': (c) => ({ path: '/api/v1/apps', body: { directory: c.project } }),
  'GET /api/v1/status': () => ({ path: '/api/v1/status' }),
  'GET /api/v1/apps': () => ({ path: '/api/v1/apps' }),
  'GET /api/v1/apps/{app}': () => [{ path: '/api/v1/apps/contract' }, { path: '/api/v1/apps/nosuch', status: 404 }],
  'GET /api/v1/apps/{app}/instances': () => ({ path: '/api/v1/apps/contract/instances' }),
  'GET /api/v1/apps/{app}/env': () => ({ path: '/api/v1/apps/contract/env' }),
  'GET /api/v1/apps/{app}/manifest': () => [{ path: '/api/v1/apps/contract/manifest' }, { path: '/api/v1/apps/nosuch/manifest', status: 404 }],
  'GET /api/v1/apps/{app}/logs': () => ({ path: '/api/v1/apps/contract/logs?lines=5' }),
  'GET /api/v1/apps/{app}/requests': async (c) => {
    // A request through the router first, so the answer has a record to validate.
    const { proxyPort } = (await apiRequest(c.socket, 'GET', '/api/v1/status')).json as { proxyPort: number };
    await getByHost(proxyPort, 'contract.localhost', '/contract?x=1');
    return [{ path: '/api/v1/apps/contract/requests?limit=5&status=2xx' }, { path: '/api/v1/apps/nosuch/requests', status: 404 }, { path: '/api/v1/apps/contract/requests?since=yesterday', status: 400 }];
  },
  'GET /api/v1/apps/{app}/mail': async (c) => {
    // A message to the app's mail service first, so the answers have one to validate.
    const { SMTP_PORT: port } = (await apiRequest(c.socket, 'GET', '/api/v1/apps/contract/env?show_secrets=true')).json as { SMTP_PORT: string };
    expect((await sendMail(Number(port), { from: 'app@contract.test', to: ['ana@example.test'], data: 'Subject: hello\r\nContent-Type: text/html\r\n\r\n<p>hello</p>\r\n' })).code).toBe(250);
    return [{ path: '/api/v1/apps/contract/mail' }, { path: '/api/v1/apps/contract/mail?service=outbox' }, { path: '/api/v1/apps/nosuch/mail', status: 404 }];
  },
  'GET /api/v1/apps/{app}/mail/{id}': async (c) => [{ path: `/api/v1/apps/contract/mail/${await c.mail()}` }, { path: '/api/v1/apps/contract/mail/ffffffff', status: 404 }],
  'GET /api/v1/apps/{app}/mail/{id}/html': async (c) => [{ path: `/api/v1/apps/contract/mail/${await c.mail()}/html` }, { path: '/api/v1/apps/contract/mail/ffffffff/html', status: 404 }],
  'GET /api/v1/apps/{app}/mail/{id}/raw': async (c) => ({ path: `/api/v1/apps/contract/mail/${await c.mail()}/raw` }),
  'DELETE /api/v1/apps/{app}/mail': () => [
    { path: '/api/v1/apps/contract/mail', body: {}, status: 409 },
    { path: '/api/v1/apps/contract/mail', body: { confirm: 'contract' } },
  ],
  'POST /api/v1/apps/{app}/scale': () => ({ path: '/api/v1/apps/contract/scale', body: { instance: 'web', quantity: 2 } }),
  'POST /api/v1/apps/{app}/restart': () => ({ path: '/api/v1/apps/contract/restart', body: {} }),
  'POST /api/v1/apps/{app}/processes/{instance}/{index}/stop': () => [{ path: '/api/v1/apps/contract/processes/web/0/stop' }, { path: '/api/v1/apps/contract/processes/nosuch/0/stop', status: 404 }],
  'POST /api/v1/apps/{app}/processes/{instance}/{index}/start': () => ({ path: '/api/v1/apps/contract/processes/web/0/start' }),
  'GET /api/v1/processes': () => ({ path: '/api/v1/processes?app=contract' }),
  'GET /api/v1/stats': () => ({ path: '/api/v1/stats?window=5' }),
  'GET /api/v1/crons': () => ({ path: '/api/v1/crons' }),
  'POST /api/v1/apps/{app}/crons/{name}/run': () => ({ path: '/api/v1/apps/contract/crons/hello/run?wait=20' }),
  'GET /api/v1/jobs/{id}/log': async (c) => [{ path: `/api/v1/jobs/${await c.job()}/log` }, { path: '/api/v1/jobs/nosuch/log', status: 404 }],
  'GET /api/v1/jobs': () => ({ path: '/api/v1/jobs' }),
  'GET /api/v1/jobs/{id}': async (c) => ({ path: `/api/v1/jobs/${await c.job()}` }),
  'POST /api/v1/jobs/{id}/abort': async (c) => ({ path: `/api/v1/jobs/${await c.job()}/abort` }),
  'GET /api/v1/services': () => [{ path: '/api/v1/services' }, { path: '/api/v1/services?kind=service&app=contract' }],
  // Read-only queries of the app's SQLite service (a write refused, an unknown service, one that cannot be queried), and its tables.
  'POST /api/v1/services/{app}/{service}/query': () => [
    { path: '/api/v1/services/contract/notes/query', body: { query: "SELECT 1 AS one, 'x' AS two", limit: 10 } },
    { path: '/api/v1/services/contract/notes/query', body: { query: 'CREATE TABLE t (id INTEGER)' }, status: 403 },
    { path: '/api/v1/services/contract/notes/query', body: { query: 'SELEC 1' }, status: 400 },
    { path: '/api/v1/services/contract/outbox/query', body: { query: 'SELECT 1' }, status: 400 },
    { path: '/api/v1/services/contract/nosuch/query', body: { query: 'SELECT 1' }, status: 404 },
    { path: '/api/v1/services/contract/notes/query', body: { query: 'SELECT 1', limit: 5000 }, status: 400 },
  ],
  'GET /api/v1/services/{app}/{service}/schema': () => [{ path: '/api/v1/services/contract/notes/schema' }, { path: '/api/v1/services/nosuch/notes/schema', status: 404 }],
  // Data: a dump made, downloaded once and restored; a snapshot taken, listed, restored and removed (before notes is destroyed below).
  'POST /api/v1/apps/{app}/dump': () => [{ path: '/api/v1/apps/contract/dump?wait=20', body: {} }, { path: '/api/v1/apps/contract/dump', body: { service: 'nosuch' }, status: 404 }],
  'GET /api/v1/apps/{app}/dumps/{id}': async (c) => {
    const made = (await apiRequest(c.socket, 'POST', '/api/v1/apps/contract/dump?wait=20', { body: { service: 'notes' } })).json as { job: string; state: string };
    expect(made.state).toBe('success');
    return [{ path: `/api/v1/apps/contract/dumps/${made.job}` }, { path: `/api/v1/apps/contract/dumps/${made.job}`, status: 404 }];
  },
  'POST /api/v1/apps/{app}/restore': async (c) => {
    const made = (await apiRequest(c.socket, 'POST', '/api/v1/apps/contract/dump?wait=20', { body: {} })).json as { download: string };
    const file = join(project, 'notes.sqlite.gz');
    writeFileSync(file, (await rawCall(c.socket, 'GET', made.download)).body);
    return [{ path: '/api/v1/apps/contract/restore?wait=20&name=notes.sqlite.gz', upload: file }, { path: '/api/v1/apps/contract/restore', body: {}, status: 400 }];
  },
  'POST /api/v1/apps/{app}/snapshots': () => [{ path: '/api/v1/apps/contract/snapshots?wait=20', body: { name: 'before' } }, { path: '/api/v1/apps/contract/snapshots', body: { name: 'before' }, status: 409 }, { path: '/api/v1/apps/contract/snapshots', body: { name: '..' }, status: 400 }],
  'GET /api/v1/apps/{app}/snapshots': () => ({ path: '/api/v1/apps/contract/snapshots' }),
  'POST /api/v1/apps/{app}/snapshots/{name}/restore': () => [
    { path: '/api/v1/apps/contract/snapshots/before/restore', body: {}, status: 409 },
    { path: '/api/v1/apps/contract/snapshots/before/restore?wait=20', body: { confirm: 'before' } },
    { path: '/api/v1/apps/contract/snapshots/nosuch/restore', body: { confirm: 'nosuch' }, status: 404 },
  ],
  'DELETE /api/v1/apps/{app}/snapshots/{name}': () => [
    { path: '/api/v1/apps/contract/snapshots/before', body: {}, status: 409 },
    { path: '/api/v1/apps/contract/snapshots/before', body: { confirm: 'before' } },
    { path: '/api/v1/apps/contract/snapshots/before', body: { confirm: 'before' }, status: 404 },
  ],
  'DELETE /api/v1/services/{app}/{service}': () => [
    { path: '/api/v1/services/contract/notes', body: {}, status: 409 },
    { path: '/api/v1/services/contract/notes?wait=20', body: { confirm: 'notes' } },
  ],
  'POST /api/v1/environment': (c) => [{ path: '/api/v1/environment', body: { directory: c.project, command: true } }, { path: '/api/v1/environment', body: { directory: 'relative' }, status: 400 }],
  'GET /api/v1/doctor': () => ({ path: '/api/v1/doctor' }),
  'GET /api/v1/runtimes': () => ({ path: '/api/v1/runtimes' }),
  'GET /api/v1/plugins': () => ({ path: '/api/v1/plugins' }),
  // Refusals only: a real install downloads tens of megabytes (test/e2e/node-versions.spec.ts does it once).
  'POST /api/v1/runtimes/install': () => [
    { path: '/api/v1/runtimes/install', body: { runtime: 'node', version: 'twenty' }, status: 422 },
    { path: '/api/v1/runtimes/install', body: { runtime: 'shell' }, status: 422 },
  ],
  'DELETE /api/v1/runtimes/{runtime}/{version}': () => {
    // An install as Paasmaker leaves one (its contents do not matter to removal).
    mkdirSync(join(home, 'runtimes', 'node', '18.0.0', 'bin'), { recursive: true });
    return [
      { path: '/api/v1/runtimes/node/18.0.0', body: {}, status: 409 },
      { path: '/api/v1/runtimes/node/18.0.0', body: { confirm: 'node@18.0.0' } },
      { path: '/api/v1/runtimes/node/18.0.0', body: { confirm: 'node@18.0.0' }, status: 404 },
    ];
  },
  // Users, roles, workspaces, tokens and sessions, asked by the socket's owner.
  'GET /api/v1/session': () => ({ path: '/api/v1/session' }),
  'POST /api/v1/session/links': () => ({ path: '/api/v1/session/links' }),
  'POST /api/v1/workspaces': () => [{ path: '/api/v1/workspaces', body: { name: 'team' } }, { path: '/api/v1/workspaces', body: { name: 'team' }, status: 409 }],
  'GET /api/v1/workspaces': () => ({ path: '/api/v1/workspaces' }),
  'POST /api/v1/users': () => [
    { path: '/api/v1/users', body: { name: 'ana', password: 'long-password', role: 'developer', workspace: 'team' } },
    { path: '/api/v1/users', body: { name: 'ana' }, status: 409 },
    { path: '/api/v1/users', body: { name: 'bad name' }, status: 400 },
  ],
  'GET /api/v1/users': () => ({ path: '/api/v1/users' }),
  'POST /api/v1/session': () => [{ path: '/api/v1/session', body: { user: 'ana', password: 'long-password' } }, { path: '/api/v1/session', body: { user: 'ana', password: 'wrong' }, status: 401 }],
  'DELETE /api/v1/session': () => ({ path: '/api/v1/session' }),
  'POST /api/v1/users/{user}/password': () => [{ path: '/api/v1/users/ana/password', body: { password: 'another-password' } }, { path: '/api/v1/users/nosuch/password', body: { password: null }, status: 404 }],
  'POST /api/v1/roles': () => [{ path: '/api/v1/roles', body: { name: 'deployer', permissions: ['WORKSPACE_VIEW', 'APPLICATION_DEPLOY'] } }, { path: '/api/v1/roles', body: { name: 'odd', permissions: ['NO_SUCH'] }, status: 400 }],
  'GET /api/v1/roles': () => ({ path: '/api/v1/roles' }),
  'POST /api/v1/allocations': () => ({ path: '/api/v1/allocations', body: { user: 'ana', role: 'deployer', workspace: 'team' } }),
  'GET /api/v1/allocations': () => ({ path: '/api/v1/allocations?user=ana' }),
  'DELETE /api/v1/roles/{role}': () => [{ path: '/api/v1/roles/deployer', status: 409 }, { path: '/api/v1/roles/deployer?confirm=true' }, { path: '/api/v1/roles/admin', status: 409 }],
  'DELETE /api/v1/allocations': () => [{ path: '/api/v1/allocations', body: { user: 'ana', role: 'developer', workspace: 'team' } }, { path: '/api/v1/allocations', body: { user: 'ana', role: 'developer', workspace: 'team' }, status: 404 }],
  'POST /api/v1/tokens': () => ({ path: '/api/v1/tokens', body: { user: 'ana', name: 'ci' } }),
  'GET /api/v1/tokens': () => ({ path: '/api/v1/tokens?user=ana' }),
  'DELETE /api/v1/tokens/{id}': async (c) => {
    const [token] = (await apiRequest(c.socket, 'GET', '/api/v1/tokens?user=ana')).json as Array<{ id: string }>;
    return [{ path: `/api/v1/tokens/${token!.id}` }, { path: `/api/v1/tokens/${token!.id}`, status: 404 }];
  },
  'POST /api/v1/apps/{app}/workspace': () => [{ path: '/api/v1/apps/contract/workspace', body: { workspace: 'team' } }, { path: '/api/v1/apps/contract/workspace', body: { workspace: 'nosuch' }, status: 404 }],
  'DELETE /api/v1/workspaces/{workspace}': async (c) => {
    // A workspace that holds an app is not removed: the app goes back first.
    expect((await apiRequest(c.socket, 'DELETE', '/api/v1/workspaces/team')).json).toMatchObject({ code: 'IN_USE' });
    expect((await apiRequest(c.socket, 'POST', '/api/v1/apps/contract/workspace', { body: { workspace: 'default' } })).status).toBe(200);
    return [{ path: '/api/v1/workspaces/default', status: 409 }, { path: '/api/v1/workspaces/team' }];
  },
  'DELETE /api/v1/users/{user}': async (c) => {
    // A user who holds a token goes only with confirmation (the token with them).
    expect((await apiRequest(c.socket, 'POST', '/api/v1/tokens', { body: { user: 'ana' } })).status).toBe(200);
    return [{ path: '/api/v1/users/ana', status: 409 }, { path: '/api/v1/users/ana?confirm=true' }];
  },
  // Versions: a folder deployed twice (v2 as a preview), v2 made current, v1 back, old ones pruned.
  'GET /api/v1/apps/{app}/versions': () => [{ path: '/api/v1/apps/contract/versions' }, { path: '/api/v1/apps/nosuch/versions', status: 404 }],
  'POST /api/v1/deploys': (c) => [
    { path: '/api/v1/deploys', body: { source: c.project } },
    { path: '/api/v1/deploys', body: { source: c.project, switch: false } },
    { path: '/api/v1/deploys', body: { source: 'relative' }, status: 400 },
  ],
  'POST /api/v1/apps/{app}/versions/{version}/stop': () => ({ path: '/api/v1/apps/contract/versions/2/stop' }),
  'POST /api/v1/apps/{app}/versions/{version}/start': () => [{ path: '/api/v1/apps/contract/versions/2/start' }, { path: '/api/v1/apps/contract/versions/9/start', status: 404 }],
  'POST /api/v1/apps/{app}/switch': () => ({ path: '/api/v1/apps/contract/switch', body: { version: 2 } }),
  'POST /api/v1/apps/{app}/rollback': () => ({ path: '/api/v1/apps/contract/rollback' }),
  'POST /api/v1/apps/{app}/versions/prune': () => ({ path: '/api/v1/apps/contract/versions/prune', body: { keep: 0 } }),
  'GET /api/v1/warnings': () => [{ path: '/api/v1/warnings' }, { path: '/api/v1/warnings?app=contract' }],
  'GET /api/v1/events': () => ({ path: '/api/v1/events?app=contract' }),
  'POST /api/v1/apps/{app}/down': () => ({ path: '/api/v1/apps/contract/down' }),
  'POST /api/v1/daemon/stop': () => ({ path: '/api/v1/daemon/stop' }),
};

/** A request whose body (a file) or answer (a download) is not JSON: the status, content type and body as bytes. */
function rawCall(socketPath: string, method: string, path: string, file?: string): Promise<{ status: number; type: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const body = file === undefined ? undefined : readFileSync(file);
    const headers = { host: 'localhost', ...(body ? { 'content-type': 'application/octet-stream', 'content-length': String(body.length) } : {}) };
    const req = request({ socketPath, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The first bytes of an event stream, and its content type. */
function openStream(socketPath: string, path: string): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, headers: { host: 'localhost' } }, (res) => {
      res.setEncoding('utf8');
      res.once('data', (chunk: string) => {
        resolve({ status: res.statusCode!, type: String(res.headers['content-type']), text: chunk });
        req.destroy();
      });
    });
    req.on('error', reject);
    req.end();
  });
}

let home: string;
let project: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const temp = tempHome();
  home = temp.home;
  project = mkdtempSync(join(tmpdir(), 'pm-contract-'));
  writeFileSync(
    join(project, 'paasmaker.yml'),
    [
      'application:',
      '  name: contract',
      'instances:',
      '  web:',
      `    command: node -e "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT, '127.0.0.1')"`,
      '    crons:',
      '      - {name: hello, schedule: "0 0 1 1 *", command: "echo hello"}',
      'services:',
      '  notes:',
      '    plugin: sqlite',
      '  outbox:',
      '    plugin: mail',
      '    password: false',
      '',
    ].join('\n'),
  );
  cleanup = async () => {
    await stopDaemonAndRemove(home, temp.cleanup);
    rmSync(project, { recursive: true, force: true });
  };
  const started = await runCli(['daemon', 'start'], { home });
  expect(started.exitCode, started.stderr).toBe(0);
}, 60_000);

afterAll(async () => cleanup?.());

describe('the API contract', () => {
  it('every route in openapi.json is called at least once on a running daemon, and every answer validates against the schema the document gives', async () => {
    const socket = join(home, 'paasmaker.sock');
    const document = (await apiRequest(socket, 'GET', '/api/v1/openapi.json')).json;
    const routes = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));
    // A route without a case, or a case for a route that is gone, fails here, before anything is called.
    expect(routes.filter((route) => !(route in CASES)), 'routes in openapi.json without a case in CASES').toEqual([]);
    expect(Object.keys(CASES).filter((route) => !routes.includes(route)), 'cases for routes openapi.json does not list').toEqual([]);

    const ajv = new Ajv2020({ strict: false });
    ajv.addSchema({ $id: 'paasmaker', components: document.components });
    const schemaOf = (value: unknown) => JSON.parse(JSON.stringify(value).replace(/#\/components/g, 'paasmaker#/components')) as object;
    const context: Context = {
      socket,
      project,
      job: async () => ((await apiRequest(socket, 'GET', '/api/v1/jobs?app=contract')).json as Array<{ id: string }>)[0]!.id,
      mail: async () => ((await apiRequest(socket, 'GET', '/api/v1/apps/contract/mail')).json as Array<{ id: string }>)[0]!.id,
    };

    for (const [route, make] of Object.entries(CASES)) {
      const [method, template] = route.split(' ') as [string, string];
      const operation = document.paths[template][method.toLowerCase()];
      for (const call of [await make(context)].flat()) {
        const where = `${method} ${call.path}`;
        if (operation.responses['200'].content['text/event-stream']) {
          const stream = await openStream(socket, call.path);
          expect(stream.status, where).toBe(200);
          expect(stream.type, where).toMatch(/^text\/event-stream/);
          expect(ajv.validate(schemaOf(operation.responses['200'].content['text/event-stream'].schema), stream.text), where).toBe(true);
          continue;
        }
        const status = call.status ?? 200;
        // An answer that is not JSON (a dump to download, a message's HTML, its source): the type the document gives, a body.
        const produces = Object.keys(operation.responses['200'].content)[0]!;
        if (produces !== 'application/json' && status === 200) {
          const got = await rawCall(socket, method, call.path);
          expect({ status: got.status, type: got.type.split(';')[0] }, where).toEqual({ status: 200, type: produces });
          expect(got.body.length, where).toBeGreaterThan(0);
          continue;
        }
        const answer = call.upload
          ? await rawCall(socket, method, call.path, call.upload).then((got) => ({ status: got.status, json: JSON.parse(got.body.toString()) as unknown }))
          : await apiRequest(socket, method, call.path, { body: call.body });
        expect(answer.status, `${where}: ${JSON.stringify(answer.json)}`).toBe(status);
        const schema = status === 200 ? operation.responses['200'].content['application/json'].schema : operation.responses.default.content['application/json'].schema;
        expect(ajv.validate(schemaOf(schema), answer.json), `${where}: ${ajv.errorsText()} in ${JSON.stringify(answer.json)}`).toBe(true);
      }
    }
  }, 120_000);
});
