import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, createServer as createNetServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../helpers/cli.js';
import { listenOnLoopback } from '../helpers/servers.js';
import { Router, type RequestRecord, type RouterOptions } from '../../src/proxy/index.js';

// The request inspector: a real router in front of a real app keeps each
// app's last requests (heads with credentials redacted, never a body), and
// records the ones the app never answered with what the router said instead.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listen(server: Server): Promise<number> {
  const { port, close } = await listenOnLoopback(server);
  cleanups.push(close);
  return port;
}

/** An app that sets two cookies, answers with a body of its own, and never answers /hang. */
async function app(): Promise<number> {
  const server = createServer((req, res) => {
    if (req.url === '/hang') return;
    req.resume();
    req.on('end', () => {
      res.writeHead(200, [
        ['content-type', 'text/plain'],
        ['set-cookie', 'session=SET-COOKIE-SECRET-1; HttpOnly'],
        ['set-cookie', 'theme=SET-COOKIE-SECRET-2'],
        ['x-served-by', 'the-app'],
      ]);
      res.end('RESPONSE-BODY-7f3a9c');
    });
  });
  server.on('upgrade', (req, socket) => {
    cleanups.push(() => void socket.destroy());
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: ${req.headers.upgrade}\r\nconnection: Upgrade\r\n\r\n`);
  });
  return listen(server);
}

async function router(options: Partial<RouterOptions> = {}): Promise<Router> {
  const instance = new Router({ port: 0, hosts: ['127.0.0.1'], ...options });
  await instance.listen();
  cleanups.push(() => instance.close());
  return instance;
}

function call(port: number, options: { host?: string; path?: string; method?: string; body?: string; headers?: Record<string, string> }): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: options.path ?? '/', method: options.method ?? 'GET', agent: false, headers: { host: options.host ?? 'shop.localhost', ...options.headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const running = (key: string, port: number) => ({ key, port, state: 'running' });
const header = (headers: Array<[string, string]>, name: string) => headers.filter(([key]) => key.toLowerCase() === name).map(([, value]) => value);

describe('the request inspector', () => {
  it('keeps method, path with query, status, sizes, client and the process that answered; credentials redacted, names kept', async () => {
    const port = await app();
    const r = await router();
    r.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [running('shop/web.0', port)] });
    const answer = await call(r.port, {
      path: '/cart?item=42&q=a%20b',
      headers: { cookie: 'sid=COOKIE-SECRET', authorization: 'Bearer AUTH-SECRET', 'proxy-authorization': 'Basic PROXY-SECRET', 'x-request-id': 'abc-123' },
    });
    expect(answer.headers['set-cookie']).toEqual(['session=SET-COOKIE-SECRET-1; HttpOnly', 'theme=SET-COOKIE-SECRET-2']);

    const [record] = r.requests!.list('shop');
    expect(record).toMatchObject({ app: 'shop', instance: 'web', upstream: 'web.0', method: 'GET', path: '/cart?item=42&q=a%20b', status: 200, bytesIn: 0, client: '127.0.0.1', answeredBy: 'app', error: null });
    expect(record!.bytesOut).toBeGreaterThanOrEqual('RESPONSE-BODY-7f3a9c'.length);
    expect(Date.parse(record!.time)).toBeGreaterThan(Date.now() - 60_000);
    expect(record!.durationMs).toBeGreaterThanOrEqual(0);
    // Names stay, values of credentials do not.
    expect(header(record!.requestHeaders, 'cookie')).toEqual(['[redacted]']);
    expect(header(record!.requestHeaders, 'authorization')).toEqual(['[redacted]']);
    expect(header(record!.requestHeaders, 'proxy-authorization')).toEqual(['[redacted]']);
    expect(header(record!.requestHeaders, 'x-request-id')).toEqual(['abc-123']);
    expect(header(record!.responseHeaders, 'set-cookie')).toEqual(['[redacted]', '[redacted]']);
    expect(header(record!.responseHeaders, 'x-served-by')).toEqual(['the-app']);
    const text = JSON.stringify(r.requests!.list('shop'));
    for (const secret of ['COOKIE-SECRET', 'AUTH-SECRET', 'PROXY-SECRET', 'SET-COOKIE-SECRET']) expect(text).not.toContain(secret);
  });

  it('redacts headers and query parameters named like credentials too (X-Api-Key, ?token=), and a path filter cannot probe them', async () => {
    const port = await app();
    const r = await router();
    r.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [running('shop/web.0', port)] });
    await call(r.port, { path: '/hook?id=7&access_token=QUERY-SECRET&api%5Fkey=ENCODED-SECRET', headers: { 'x-api-key': 'KEY-SECRET', 'x-csrf-token': 'CSRF-SECRET', 'x-trace': 'visible' } });
    const [record] = r.requests!.list('shop');
    expect(record!.path).toBe('/hook?id=7&access_token=[redacted]&api%5Fkey=[redacted]');
    expect(header(record!.requestHeaders, 'x-api-key')).toEqual(['[redacted]']);
    expect(header(record!.requestHeaders, 'x-csrf-token')).toEqual(['[redacted]']);
    expect(header(record!.requestHeaders, 'x-trace')).toEqual(['visible']);
    expect(JSON.stringify(r.requests!.list('shop'))).not.toMatch(/QUERY-SECRET|ENCODED-SECRET|KEY-SECRET|CSRF-SECRET/);
    expect(r.requests!.list('shop', { path: 'QUERY-SECRET' })).toEqual([]);
    expect(r.requests!.list('shop', { path: 'id=7' })).toHaveLength(1);
  });

  it('never stores a body, of the request or of the answer', async () => {
    const port = await app();
    const r = await router();
    r.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [running('shop/web.0', port)] });
    const body = 'REQUEST-BODY-e4d1b0'.repeat(50);
    const answer = await call(r.port, { method: 'POST', path: '/orders', body, headers: { 'content-type': 'text/plain' } });
    expect(answer.body).toBe('RESPONSE-BODY-7f3a9c');
    const chunked = await call(r.port, { method: 'PUT', path: '/upload', body: 'CHUNKED-BODY-91ac', headers: { 'transfer-encoding': 'chunked' } });
    expect(chunked.status).toBe(200);
    const records = r.requests!.list('shop');
    expect(records.map((record) => [record.method, record.path, record.bytesIn])).toEqual([
      ['POST', '/orders', body.length],
      ['PUT', '/upload', expect.any(Number)],
    ]);
    const text = JSON.stringify(records);
    expect(text).not.toContain('REQUEST-BODY');
    expect(text).not.toContain('CHUNKED-BODY');
    expect(text).not.toContain('RESPONSE-BODY');
  });

  it('keeps the last N per app: past the bound the oldest go, ids keep increasing, and apps do not share a ring', async () => {
    const port = await app();
    const r = await router({ requestLog: 5 });
    r.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [running('shop/web.0', port)] });
    r.table.setApp('blog', { hostnames: ['blog.localhost'], upstreams: [running('blog/web.0', port)] });
    await call(r.port, { host: 'blog.localhost', path: '/post' });
    for (let i = 1; i <= 12; i++) await call(r.port, { path: `/page/${i}` });
    const shop = r.requests!.list('shop');
    expect(shop.map((record) => record.path)).toEqual(['/page/8', '/page/9', '/page/10', '/page/11', '/page/12']);
    expect(shop.map((record) => record.id)).toEqual([...shop.map((record) => record.id)].sort((a, b) => a - b));
    expect(new Set(shop.map((record) => record.id)).size).toBe(5);
    expect(r.requests!.list('blog').map((record) => record.path)).toEqual(['/post']);
    // Filters: after an id, by status, by path, the newest N.
    expect(r.requests!.list('shop', { sinceId: shop[2]!.id }).map((record) => record.path)).toEqual(['/page/11', '/page/12']);
    expect(r.requests!.list('shop', { path: '/page/1' }).map((record) => record.path)).toEqual(['/page/10', '/page/11', '/page/12']);
    expect(r.requests!.list('shop', { limit: 2 }).map((record) => record.path)).toEqual(['/page/11', '/page/12']);
    expect(r.requests!.list('shop', { status: { class: 2 } })).toHaveLength(5);
    expect(r.requests!.list('shop', { status: { exact: 404 } })).toHaveLength(0);
    expect(r.requests!.list('shop', { sinceTime: Date.parse(shop[4]!.time) + 60_000 })).toHaveLength(0);
  });

  it('records a 502 the router answered when the app refused the connection, with why', async () => {
    const closed = createNetServer();
    const deadPort = await listen(closed as unknown as Server);
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const r = await router();
    r.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [running('shop/web.0', deadPort)], status: { state: 'running' } });
    // A POST is not retried elsewhere: the router answers 502 at once.
    const answer = await call(r.port, { method: 'POST', path: '/pay', body: 'x' });
    expect(answer.status).toBe(502);
    const [record] = r.requests!.list('shop');
    expect(record).toMatchObject({ method: 'POST', path: '/pay', status: 502, answeredBy: 'router', upstream: 'web.0' });
    expect(record!.error).toContain(`ECONNREFUSED from 127.0.0.1:${deadPort}`);
    expect(header(record!.responseHeaders, 'x-paasmaker')).toEqual(['router']);
  });

  it('records a 503 for an app that is stopped, and a request whose client left before any answer', async () => {
    const port = await app();
    const r = await router();
    r.table.setApp('down', { hostnames: ['down.localhost'], upstreams: [], status: { state: 'stopped' } });
    expect((await call(r.port, { host: 'down.localhost', path: '/x' })).status).toBe(503);
    expect(r.requests!.list('down')).toMatchObject([{ path: '/x', status: 503, answeredBy: 'router', upstream: null, error: 'down/web is stopped' }]);

    r.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [running('shop/web.0', port)] });
    const socket = connect(r.port, '127.0.0.1');
    socket.write('GET /hang HTTP/1.1\r\nhost: shop.localhost\r\n\r\n');
    await until(() => r.inFlight('shop/web.0') === 1, 10_000, 'the request to reach the app');
    // A reset, as a browser tab closed mid-request sends (a plain FIN is a half-close the router honours).
    socket.resetAndDestroy();
    const record = await until(() => r.requests!.list('shop', { path: '/hang' })[0], 10_000, 'the abandoned request');
    expect(record).toMatchObject({ status: null, answeredBy: 'none', upstream: 'web.0', error: 'the client closed the connection before an answer' });
  });

  it('an absolute-form target (from a client set to use a proxy) is kept as the path the app got', async () => {
    const port = await app();
    const r = await router();
    r.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [running('shop/web.0', port)] });
    const socket = connect(r.port, '127.0.0.1');
    cleanups.push(() => void socket.destroy());
    socket.write('DELETE http://shop.localhost/items/9?force=1 HTTP/1.1\r\nhost: shop.localhost\r\n\r\n');
    const record = await until(() => r.requests!.list('shop')[0], 10_000, 'the request');
    expect(record).toMatchObject({ method: 'DELETE', path: '/items/9?force=1', status: 200 });
  });

  it('a head longer than a record keeps (4 KB) is kept in part, said so, its method and path whole', async () => {
    const port = await app();
    const r = await router();
    r.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [running('shop/web.0', port)] });
    const longPath = `/search?q=${'x'.repeat(5000)}`;
    await call(r.port, { path: longPath, headers: { 'x-first': 'kept' } });
    await call(r.port, { path: '/big-cookie', headers: { 'x-first': 'kept', cookie: `c=${'y'.repeat(6000)}`, 'x-after-the-cookie': 'lost' } });
    const [long, big] = r.requests!.list('shop');
    expect(long).toMatchObject({ method: 'GET', path: longPath, status: 200, truncated: true });
    expect(big).toMatchObject({ method: 'GET', path: '/big-cookie', status: 200, truncated: true });
    expect(header(big!.requestHeaders, 'x-first')).toEqual(['kept']);
    expect(header(big!.requestHeaders, 'cookie')).toEqual(['[redacted]']);
    expect(header(big!.requestHeaders, 'x-after-the-cookie')).toEqual([]);
    expect(JSON.stringify(big)).not.toContain('yyyy');
    // Short heads are whole.
    await call(r.port, { path: '/short' });
    expect(r.requests!.list('shop').at(-1)).toMatchObject({ path: '/short', truncated: false });
    expect(header(r.requests!.list('shop').at(-1)!.responseHeaders, 'x-served-by')).toEqual(['the-app']);
  });

  it('a slot reused for a larger head, then a smaller one, keeps each whole and nothing of the one before', async () => {
    const port = await app();
    const r = await router({ requestLog: 1 });
    r.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [running('shop/web.0', port)] });
    const latest = () => r.requests!.list('shop').at(-1)!;
    await call(r.port, { path: '/small' });
    expect(latest()).toMatchObject({ path: '/small', truncated: false });
    const big = 'z'.repeat(1800);
    await call(r.port, { path: '/larger', headers: { 'x-big': big, 'x-last': 'kept' } });
    expect(latest()).toMatchObject({ path: '/larger', truncated: false });
    expect(header(latest().requestHeaders, 'x-big')).toEqual([big]);
    expect(header(latest().requestHeaders, 'x-last')).toEqual(['kept']);
    expect(header(latest().responseHeaders, 'x-served-by')).toEqual(['the-app']);
    await call(r.port, { path: '/small-again' });
    expect(latest()).toMatchObject({ path: '/small-again', truncated: false });
    expect(header(latest().requestHeaders, 'x-big')).toEqual([]);
    expect(header(latest().responseHeaders, 'x-served-by')).toEqual(['the-app']);
    expect(r.requests!.list('shop')).toHaveLength(1);
  });

  it('a WebSocket upgrade is kept as its 101, with the answer\'s headers', async () => {
    const port = await app();
    const r = await router();
    r.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [running('shop/web.0', port)] });
    const socket = connect(r.port, '127.0.0.1');
    cleanups.push(() => void socket.destroy());
    socket.write('GET /socket HTTP/1.1\r\nhost: shop.localhost\r\nconnection: upgrade\r\nupgrade: websocket\r\ncookie: ws=WS-SECRET\r\n\r\n');
    const record = await until(() => r.requests!.list('shop')[0], 10_000, 'the upgrade');
    expect(record).toMatchObject({ path: '/socket', status: 101, answeredBy: 'app', upstream: 'web.0' });
    expect(header(record.responseHeaders, 'upgrade')).toEqual(['websocket']);
    expect(header(record.requestHeaders, 'cookie')).toEqual(['[redacted]']);
  });

  it('requests for no known app are not kept, and requestLog: 0 turns the inspector off', async () => {
    const r = await router();
    expect((await call(r.port, { host: 'nobody.localhost' })).status).toBe(404);
    expect(r.requests!.apps()).toEqual([]);
    const off = await router({ requestLog: 0 });
    expect(off.requests).toBeUndefined();
  });

  it('a record is a plain JSON value, as the API sends it', async () => {
    const port = await app();
    const r = await router();
    r.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [running('shop/web.0', port)] });
    await call(r.port, { path: '/' });
    const [record] = r.requests!.list('shop');
    expect(JSON.parse(JSON.stringify(record)) as RequestRecord).toEqual(record);
  });
});
