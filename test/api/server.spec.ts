import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../src/api/openapi.js';
import { EventsQuerySchema } from '../../src/api/requests.js';
import { ROUTES } from '../../src/api/routes.js';
import { ApiServer } from '../../src/api/server.js';
import { Platform } from '../../src/engine/index.js';
import { loadManifest } from '../../src/manifest/index.js';
import { repoRoot, sleep, until } from '../helpers/cli.js';

// The API in process, over a real Unix socket, with a real platform running a real app.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Answer {
  status: number;
  json: any;
}

/** One raw HTTP/1.1 request over the socket, the target sent byte for byte as given. */
function raw(socket: string, method: string, target: string, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const client = connect(socket);
    let text = '';
    client.on('data', (chunk) => (text += chunk));
    client.on('error', reject);
    client.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
      const payload = text.slice(text.indexOf('\r\n\r\n') + 4);
      try {
        resolve({ status, json: payload ? JSON.parse(payload) : undefined });
      } catch {
        reject(new Error(`not JSON: ${text}`));
      }
    });
    const length = body === undefined ? '' : `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
    client.write(`${method} ${target} HTTP/1.1\r\nHost: localhost\r\n${length}Connection: close\r\n\r\n${body ?? ''}`);
  });
}

async function start(options: { status?: () => never } = {}) {
  const home = mkdtempSync(join(tmpdir(), 'pm-api-'));
  const project = mkdtempSync(join(tmpdir(), 'pm-api-app-'));
  writeFileSync(
    join(project, 'paasmaker.yml'),
    `application:\n  name: shop\ninstances:\n  web:\n    command: node -e "require('http').createServer((q, s) => s.end('shop')).listen(process.env.PORT, '127.0.0.1')"\n  worker:\n    command: node -e "setInterval(() => {}, 1000)"\n    standalone: true\n`,
  );
  const platform = await Platform.open({ home });
  const logged: string[] = [];
  const api = new ApiServer(
    {
      platform,
      status: options.status ?? (() => ({ pid: process.pid, socket: '', proxyPort: null, apiPort: null, uptime: 0, apps: ['shop'] })),
      shutdown: () => undefined,
    },
    { log: (line) => logged.push(line) },
  );
  const socket = join(home, 'api.sock');
  await api.listenSocket(socket);
  cleanups.push(async () => {
    await api.close();
    await platform.close();
    rmSync(home, { recursive: true, force: true });
    rmSync(project, { recursive: true, force: true });
  });
  await platform.apply(loadManifest(project));
  return { platform, socket, logged, call: (method: string, target: string, body?: unknown) => raw(socket, method, target, body === undefined ? undefined : JSON.stringify(body)) };
}

describe('the API refuses what it cannot read, and keeps running', () => {
  it('a malformed percent-encoding in a path parameter, or an unparsable target, answers 400 JSON with a hint; the next request is answered', async () => {
    const { call } = await start();
    const bad: Array<[string, string]> = [
      ['GET', '/api/v1/apps/%E0%A4%A'],
      ['GET', '/api/v1/jobs/%ZZ'],
      ['GET', '/api/v1/apps/%/logs'],
      ['GET', '/api/v1/apps/%E0%A4%A/instances'],
      ['POST', '/api/v1/apps/a%ZZ/down'],
      ['POST', '/api/v1/jobs/%C0/abort'],
      ['GET', '//'],
    ];
    for (const [method, target] of bad) {
      const answer = await call(method, target, method === 'POST' ? {} : undefined);
      expect(answer.status, `${method} ${target}`).toBe(400);
      expect(answer.json).toMatchObject({ code: 'INVALID_REQUEST', error: expect.any(String), hint: expect.any(String) });
    }
    expect((await call('GET', '/api/v1/apps/%E0%A4%A')).json.error).toContain('the path parameter app ("%E0%A4%A") is not valid percent-encoding');
    const apps = await call('GET', '/api/v1/apps');
    expect(apps.status).toBe(200);
    expect(apps.json.map((app: { name: string; state: string }) => [app.name, app.state])).toEqual([['shop', 'running']]);
    // A well-encoded name still reaches its route.
    expect((await call('GET', `/api/v1/apps/${encodeURIComponent('ünknown')}`)).json).toMatchObject({ code: 'APP_NOT_FOUND', error: 'no app named "ünknown"' });
  });

  it('invalid query parameters answer 400 naming the parameter, instead of being ignored', async () => {
    const { call } = await start();
    const bad = ['/api/v1/apps/shop/logs?lines=abc', '/api/v1/apps/shop/logs?lines=0', '/api/v1/apps/shop/logs?lines=2.5', '/api/v1/apps/shop/logs?lines=', '/api/v1/stats?window=-1', '/api/v1/stats?window=soon', '/api/v1/processes?ap=shop', '/api/v1/apps?lines=3', '/api/v1/events?attach=yes'];
    for (const target of bad) {
      const answer = await call('GET', target);
      expect(answer.status, target).toBe(400);
      expect(answer.json.code, target).toBe('INVALID_REQUEST');
    }
    expect((await call('GET', '/api/v1/apps/shop/logs?lines=abc')).json).toMatchObject({ error: expect.stringContaining('the query parameter lines ("abc")'), hint: 'this endpoint takes ?lines=' });
    expect((await call('GET', '/api/v1/processes?ap=shop')).json).toMatchObject({ error: expect.stringContaining('"ap"'), hint: 'this endpoint takes ?app=, ?running=' });
    // Valid ones still work.
    const logs = await call('GET', '/api/v1/apps/shop/logs?lines=2');
    expect(logs.status).toBe(200);
    expect(logs.json.length).toBeLessThanOrEqual(2);
    const processes = await call('GET', '/api/v1/processes?app=shop');
    expect(processes.json.map((row: { instance: string }) => row.instance).sort()).toEqual(['web', 'worker']);
    expect((await call('GET', '/api/v1/stats?window=10')).status).toBe(200);
  });

  it("the OpenAPI document lists each route's query parameters from the schema that validates them", () => {
    const doc = openApiDocument() as any;
    expect(doc.paths['/api/v1/apps/{app}/logs'].get.parameters).toContainEqual(expect.objectContaining({ name: 'lines', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 5000 } }));
    expect(doc.paths['/api/v1/stats'].get.parameters.map((parameter: { name: string }) => parameter.name)).toEqual(['app', 'window']);
    expect(doc.paths['/api/v1/events'].get.parameters.map((parameter: { name: string }) => parameter.name)).toEqual(['app', 'attach']);
  });

  it("a handler's bug answers 500 JSON, its stack goes to the log, and the server answers the next request", async () => {
    const { call, logged } = await start({
      status: () => {
        throw new TypeError('cannot read the status of nothing');
      },
    });
    const answer = await call('GET', '/api/v1/status');
    expect(answer.status).toBe(500);
    expect(answer.json).toMatchObject({ code: 'INTERNAL', error: 'internal error: cannot read the status of nothing', hint: expect.stringContaining('bug') });
    expect(logged.join('\n')).toMatch(/GET "\/api\/v1\/status": internal error\nTypeError: cannot read the status of nothing\n\s+at /);
    expect((await call('GET', '/api/v1/apps')).status).toBe(200);
  });

  it('a client that leaves an event stream mid-way: the events after it and the close go on without an error', async () => {
    const { platform, call, socket } = await start();
    const client = connect(socket);
    let received = '';
    client.on('data', (chunk) => (received += chunk));
    client.on('error', () => undefined);
    client.write('GET /api/v1/events?app=shop HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await until(() => received.includes(': paasmaker events'), 5000, 'the stream to open');
    client.destroy();
    for (let i = 0; i < 50; i++) platform.emit('log.line', { app: 'shop', source: 'web.0', stream: 'out', line: `line ${i}`, time: Date.now() });
    await sleep(50);
    for (let i = 0; i < 50; i++) platform.emit('log.line', { app: 'shop', source: 'web.0', stream: 'out', line: `line ${i}`, time: Date.now() });
    expect((await call('GET', '/api/v1/apps/shop')).json).toMatchObject({ name: 'shop', state: 'running' });
  });

  it('POST /apps of an app whose only process exits with code 3 answers with it in unready, and the answers validate against the OpenAPI document', async () => {
    const { call } = await start();
    const doc = openApiDocument() as any;
    const ajv = new Ajv2020({ strict: false });
    ajv.addSchema({ $id: 'paasmaker', components: doc.components });
    const valid = (schema: unknown, value: unknown) => ajv.validate(JSON.parse(JSON.stringify(schema).replace(/#\/components/g, 'paasmaker#/components')), value) || ajv.errorsText();
    const started = await call('POST', '/api/v1/apps', { directory: join(repoRoot, 'test', 'fixtures', 'projects', 'exits-3'), watch: false });
    expect(started.status).toBe(200);
    expect(valid(doc.paths['/api/v1/apps'].post.responses['200'].content['application/json'].schema, started.json)).toBe(true);
    expect(started.json).toMatchObject({ name: 'exits-3', unready: [{ process: 'web.0', state: 'backoff', reason: expect.stringMatching(/^exited with code 3 before it listened on \$PORT; restarting in \d/) }] });
    expect([...started.json.unready[0].lines].sort()).toEqual(['Error: DATABASE_URL is not set', 'booting exits-3']);
    const refused = await call('GET', '/api/v1/apps/exits-3/logs?lines=abc');
    expect(valid(doc.paths['/api/v1/apps/{app}/logs'].get.responses.default.content['application/json'].schema, refused.json)).toBe(true);
    await call('POST', '/api/v1/apps/exits-3/down', {});
  });

  it('a client that hangs up before its answer (a restart that takes a while): the answer goes nowhere, and nothing breaks', async () => {
    const { platform, call, socket, logged } = await start();
    const client = connect(socket);
    client.on('error', () => undefined);
    const body = JSON.stringify({ instance: 'web' });
    client.write(`POST /api/v1/apps/shop/restart HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    await sleep(30);
    client.destroy();
    await until(() => platform.state.jobs.roots({ app: 'shop' }).some((job) => job.title === 'reload web' && job.state === 'success'), 10_000, 'the restart to finish');
    await sleep(50);
    expect(logged).toEqual([]);
    expect((await call('GET', '/api/v1/apps/shop')).json).toMatchObject({ name: 'shop', state: 'running' });
  });

  it("restart and scale of an instance type the app does not have answer 404 INSTANCE_NOT_FOUND with the app's types, and change nothing", async () => {
    const { call } = await start();
    const before = (await call('GET', '/api/v1/processes?app=shop')).json;
    for (const instance of ['nonexistent', '../../x']) {
      const restart = await call('POST', '/api/v1/apps/shop/restart', { instance });
      expect(restart).toEqual({ status: 404, json: { code: 'INSTANCE_NOT_FOUND', error: `no instance ${JSON.stringify(instance)} in shop`, hint: 'its instance types: web, worker' } });
      const scale = await call('POST', '/api/v1/apps/shop/scale', { instance, quantity: 2 });
      expect(scale).toEqual({ status: 404, json: { code: 'INSTANCE_NOT_FOUND', error: `no instance ${JSON.stringify(instance)} in shop`, hint: 'its instance types: web, worker' } });
    }
    expect((await call('POST', '/api/v1/apps/nope/restart', {})).json).toMatchObject({ code: 'APP_NOT_FOUND' });
    expect((await call('POST', '/api/v1/apps/nope/scale', { instance: 'web', quantity: 2 })).json).toMatchObject({ code: 'APP_NOT_FOUND' });
    const after = (await call('GET', '/api/v1/processes?app=shop')).json;
    expect(after.map((row: { pid: number }) => row.pid)).toEqual(before.map((row: { pid: number }) => row.pid));
    // A project folder is named by its absolute path: a relative one would be resolved in the platform's folder, not the caller's.
    expect((await call('POST', '/api/v1/apps', { directory: 'shop' })).json).toMatchObject({ code: 'INVALID_REQUEST', error: 'directory: must be an absolute path' });
    // The instance it has still restarts.
    expect(await call('POST', '/api/v1/apps/shop/restart', { instance: 'web' })).toEqual({ status: 200, json: { ok: true } });
  });

  it('fuzzed targets on every route (odd percent-encoding, dot segments, query junk) and fuzzed restart and scale bodies always get a JSON answer below 500, and the app keeps running', async () => {
    const { call, logged } = await start();
    const segment = fc.oneof(
      fc.constantFrom('shop', 'nope', '..', '.', '%', '%E0%A4%A', '%ZZ', '%2F', '%00', '%C0%AF', 'ünï', ''),
      fc.string({ maxLength: 12 }).map((text) => encodeURIComponent(text)),
      fc.stringMatching(/^[A-Za-z0-9%._~-]{0,12}$/),
    );
    const query = fc.array(fc.tuple(fc.constantFrom('app', 'lines', 'window', 'attach', 'x', ''), fc.oneof(fc.constantFrom('1', 'abc', '-1', '1e9', '%ZZ', ''), fc.stringMatching(/^[A-Za-z0-9%]{0,6}$/))), { maxLength: 3 });
    const gets = ROUTES.filter((route) => route.method === 'GET');
    const request = fc.tuple(fc.constantFrom(...gets.map((route) => route.path), '/api/v1/events', '/api/v1/openapi.json'), fc.array(segment, { minLength: 2, maxLength: 2 }), query);
    await fc.assert(
      fc.asyncProperty(request, async ([template, values, pairs]) => {
        let n = 0;
        const path = template.replace(/:\w+/g, () => values[n++ % values.length]!);
        const search = pairs.map(([name, value]) => `${name}=${value}`).join('&');
        // An event stream that opens stays open: only its refusals are checked here.
        if (template === '/api/v1/events' && EventsQuerySchema.safeParse(Object.fromEntries(new URLSearchParams(search))).success) return;
        const answer = await call('GET', `${path}${search ? `?${search}` : ''}`);
        expect(answer.status, `${path}?${search}`).toBeLessThan(500);
      }),
      { numRuns: 300 },
    );
    // Bodies of any JSON shape on the routes that take one: refused or done, never a bug.
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('restart', 'scale'), fc.oneof(fc.jsonValue(), fc.record({ instance: fc.oneof(fc.constantFrom('web', 'worker', '../../x'), fc.string()), quantity: fc.oneof(fc.integer({ min: -2, max: 3 }), fc.double(), fc.string()) }, { requiredKeys: [] })), async (action, body) => {
        const answer = await call('POST', `/api/v1/apps/shop/${action}`, body);
        expect(answer.status, `${action} ${JSON.stringify(body)}`).toBeLessThan(500);
      }),
      { numRuns: 60 },
    );
    for (const instance of ['%ZZ', '../../x', '', ' ', 'web\u0000', 'w'.repeat(500)]) {
      const answer = await call('POST', '/api/v1/apps/shop/restart', { instance });
      expect([400, 404], instance).toContain(answer.status);
    }
    expect(logged).toEqual([]);
    expect((await call('GET', '/api/v1/apps/shop')).json).toMatchObject({ name: 'shop', state: 'running' });
  });
});
