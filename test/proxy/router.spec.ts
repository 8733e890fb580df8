import { createHash, randomBytes } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, createServer as createNetServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { listenOnLoopback } from '../helpers/servers.js';
import { Router, type RouteTarget } from '../../src/proxy/index.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listen(server: Server): Promise<number> {
  const { port, close } = await listenOnLoopback(server);
  cleanups.push(close);
  return port;
}

/** An app that echoes what it received, says who it is, and streams on /events. */
async function app(name: string): Promise<number> {
  const server = createServer((req, res) => {
    if (req.url === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('data: first\n\n');
      setTimeout(() => res.end('data: last\n\n'), 800);
      return;
    }
    const hash = createHash('sha256');
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      size += chunk.length;
    });
    req.on('end', () => {
      if (req.url === '/big') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(Buffer.alloc(5 * 1024 * 1024, 7));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'x-app': name, connection: 'keep-alive, x-secret', 'x-secret': 'hop' });
      res.end(JSON.stringify({ name, url: req.url, method: req.method, headers: req.headers, size, sha: hash.digest('hex') }));
    });
  });
  server.on('upgrade', (req, socket) => {
    cleanups.push(() => void socket.destroy());
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: ${req.headers.upgrade}\r\nconnection: Upgrade\r\n\r\n`);
    socket.on('data', (chunk) => socket.write(chunk)); // echo
  });
  return listen(server);
}

async function router(holdTimeoutMs = 30_000): Promise<Router> {
  const instance = new Router({ port: 0, hosts: ['127.0.0.1'], holdTimeoutMs });
  await instance.listen();
  cleanups.push(() => instance.close());
  return instance;
}

function call(port: number, options: { host: string; path?: string; method?: string; body?: Buffer; headers?: Record<string, string> }): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: options.path ?? '/', method: options.method ?? 'GET', headers: { host: options.host, ...options.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const running = (key: string, port: number) => ({ key, port, state: 'running' });

describe('Router', () => {
  it('forwards exactly what the app answers, with forwarding headers and without hop-by-hop ones', async () => {
    const port = await app('shop');
    const r = await router();
    r.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [running('shop/web.0', port)] });
    const direct = await call(port, { host: 'shop.localhost', path: '/a?b=1' });
    const routed = await call(r.port, { host: 'shop.localhost:1234', path: '/a?b=1', headers: { 'x-forwarded-for': '10.0.0.9', 'keep-alive': 'timeout=5', 'proxy-connection': 'x' } });
    expect(routed.status).toBe(direct.status);
    const seen = JSON.parse(routed.body.toString());
    expect(seen).toMatchObject({ name: 'shop', url: '/a?b=1', method: 'GET' });
    expect(seen.headers.host).toBe('shop.localhost:1234');
    expect(seen.headers['x-forwarded-for']).toBe('10.0.0.9, 127.0.0.1');
    expect(seen.headers['x-forwarded-host']).toBe('shop.localhost:1234');
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    expect(seen.headers.forwarded).toBe('for=127.0.0.1;host="shop.localhost:1234";proto=http');
    expect(seen.headers['keep-alive']).toBeUndefined();
    expect(seen.headers['proxy-connection']).toBeUndefined();
    expect(routed.headers['x-app']).toBe('shop');
    expect(routed.headers['x-secret']).toBeUndefined(); // named in Connection: hop-by-hop
  });

  it('carries a 5 MB body both ways intact', async () => {
    const port = await app('shop');
    const r = await router();
    r.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [running('shop/web.0', port)] });
    const body = randomBytes(5 * 1024 * 1024);
    const up = await call(r.port, { host: 'shop.localhost', method: 'POST', body });
    const seen = JSON.parse(up.body.toString());
    expect(seen.size).toBe(body.length);
    expect(seen.sha).toBe(createHash('sha256').update(body).digest('hex'));
    const down = await call(r.port, { host: 'shop.localhost', path: '/big' });
    expect(down.body.length).toBe(5 * 1024 * 1024);
    expect(down.body.every((byte) => byte === 7)).toBe(true);
  });

  it('tunnels a WebSocket upgrade: 101, then an echo', async () => {
    const port = await app('chat');
    const r = await router();
    r.table.setApp('chat', { hostnames: ['chat.localhost'], upstreams: [running('chat/web.0', port)] });
    const socket = connect(r.port, '127.0.0.1');
    cleanups.push(() => void socket.destroy());
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.write('GET /ws HTTP/1.1\r\nHost: chat.localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    await until(() => received.includes('\r\n\r\n'));
    expect(received).toMatch(/^HTTP\/1\.1 101 /);
    socket.write('ping-through-router');
    await until(() => received.includes('ping-through-router'));
  });

  it('streams server-sent events: the first event arrives before the stream ends', async () => {
    const port = await app('feed');
    const r = await router();
    r.table.setApp('feed', { hostnames: ['feed.localhost'], upstreams: [running('feed/web.0', port)] });
    const started = Date.now();
    const firstAt = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: r.port, path: '/events', headers: { host: 'feed.localhost' } }, (res) => {
        res.once('data', (chunk: Buffer) => {
          expect(chunk.toString()).toContain('data: first');
          resolve(Date.now() - started);
          res.resume();
        });
      });
      req.on('error', reject);
      req.end();
    });
    expect(firstAt).toBeLessThan(600); // the stream ends at 800 ms
  });

  it('matches exact names before one-level wildcards; an unknown host gets a 404 listing the apps', async () => {
    const shop = await app('shop');
    const tenant = await app('tenant');
    const r = await router();
    r.table.setApp('shop', [
      { instance: 'web', hostnames: ['shop.localhost', 'admin.shop.localhost'], upstreams: [running('shop/web.0', shop)] },
      { instance: 'tenants', hostnames: ['*.shop.localhost'], upstreams: [running('shop/tenants.0', tenant)] },
    ]);
    expect(JSON.parse((await call(r.port, { host: 'admin.shop.localhost' })).body.toString()).name).toBe('shop');
    expect(JSON.parse((await call(r.port, { host: 'acme.shop.localhost' })).body.toString()).name).toBe('tenant');
    const deep = await call(r.port, { host: 'a.b.shop.localhost' });
    expect(deep.status).toBe(404);
    expect(deep.headers['content-type']).toMatch(/text\/plain/);
    expect(deep.body.toString()).toContain(`shop/web  http://shop.localhost:${r.port}/`);
    const html = await call(r.port, { host: 'nope.localhost', headers: { accept: 'text/html' } });
    expect(html.headers['content-type']).toMatch(/text\/html/);
    expect(html.body.toString()).toContain(`<a href="http://shop.localhost:${r.port}/">`);
  });

  it('balances across ready processes and routes around one that refuses connections', async () => {
    const a = await app('a');
    const b = await app('b');
    const closed = await listen(createServer());
    cleanups.pop(); // close it now, so its port refuses
    const r = await router();
    r.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [running('shop/web.0', a), running('shop/web.1', b)] });
    const names = await Promise.all(Array.from({ length: 10 }, async () => JSON.parse((await call(r.port, { host: 'shop.localhost' })).body.toString()).name));
    expect(new Set(names)).toEqual(new Set(['a', 'b']));

    const dead = createServer();
    const deadPort = await listen(dead);
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    void closed;
    r.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [running('shop/web.0', deadPort), running('shop/web.1', b)] });
    for (let i = 0; i < 6; i++) {
      const answer = await call(r.port, { host: 'shop.localhost' });
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body.toString()).name).toBe('b');
    }
  });

  it('holds requests while an instance starts and answers them once it is ready', async () => {
    const port = await app('late');
    const r = await router();
    r.table.setApp('late', { hostnames: ['late.localhost'], upstreams: [], status: { state: 'starting' } });
    const pending = call(r.port, { host: 'late.localhost' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    r.table.update('late', 'web', { upstreams: [running('late/web.0', port)], status: { state: 'running' } });
    const answer = await pending;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body.toString()).name).toBe('late');
  });

  it('sends a request held on a target its app replaced to the new one (a switch of versions)', async () => {
    const port = await app('switched');
    const r = await router();
    r.table.setApp('shop@v4', { hostnames: ['shop.localhost'], upstreams: [], status: { state: 'backoff', restarting: true } });
    const pending = call(r.port, { host: 'shop.localhost' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The name moves to a ready target of another key, then the old one goes.
    r.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [running('shop/web.0', port)], status: { state: 'running' } });
    r.table.removeApp('shop@v4');
    const answer = await pending;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body.toString()).name).toBe('switched');
  });

  it('fails a request held on an app that is removed at once, rather than after the hold timeout', { timeout: 15_000 }, async () => {
    const r = await router();
    r.table.setApp('gone', { hostnames: ['gone.localhost'], upstreams: [], status: { state: 'starting' } });
    const pending = call(r.port, { host: 'gone.localhost' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    r.table.removeApp('gone');
    // Without the release the request would wait out the router's 30 s hold, past this test's timeout.
    const answer = await pending;
    expect(answer.status).toBe(503);
  });

  it('answers a crashed app with a 503 naming its state, countdown and last log lines', async () => {
    const r = await router();
    const target = r.table.setApp('boom', {
      hostnames: ['boom.localhost'],
      upstreams: [],
      status: { state: 'backoff', nextRestartAt: Date.now() + 8000, tail: () => ['starting…', 'Error: cannot find module ./db'] },
    })[0] as RouteTarget;
    expect(target.app).toBe('boom');
    const text = await call(r.port, { host: 'boom.localhost' });
    expect(text.status).toBe(503);
    expect(text.body.toString()).toMatch(/boom\/web is backoff; restarting in [78] s/);
    expect(text.body.toString()).toContain('Error: cannot find module ./db');
    const html = await call(r.port, { host: 'boom.localhost', headers: { accept: 'text/html' } });
    expect(html.body.toString()).toContain('<pre>starting…\nError: cannot find module ./db</pre>');
  });

  it('gives up holding after the hold timeout with a 503', async () => {
    const r = await router(300);
    r.table.setApp('slow', { hostnames: ['slow.localhost'], upstreams: [], status: { state: 'starting' } });
    const answer = await call(r.port, { host: 'slow.localhost' });
    expect(answer.status).toBe(503);
    expect(answer.body.toString()).toContain('did not become ready within the 0.3 s the router holds a request');
  });

  it('counts requests, status classes, bytes and latency in memory', async () => {
    const port = await app('shop');
    const r = await router();
    r.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [running('shop/web.0', port)] });
    const began = performance.now();
    for (let i = 0; i < 5; i++) await call(r.port, { host: 'shop.localhost', method: 'POST', body: Buffer.from('hello') });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const [sample] = r.traffic.drain();
    expect(sample).toMatchObject({ app: 'shop', instance: 'web', requests: 5, statuses: [0, 0, 5, 0, 0, 0], bytesIn: 25 });
    expect(sample!.bytesOut).toBeGreaterThan(5 * 100);
    expect(sample!.p50).toBeGreaterThanOrEqual(0);
    // Each latency is measured from its own request's start: none is longer than the test so far.
    expect(sample!.p99).toBeLessThanOrEqual(performance.now() - began);
    expect(r.traffic.drain()).toEqual([]);
  });

  it("counts no traffic for the platform's own routes (the console), only for apps", async () => {
    const port = await app('console');
    const r = await router();
    r.table.setApp('paasmaker', { hostnames: ['paasmaker.localhost'], upstreams: [running('paasmaker/console', port)], internal: true });
    r.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [running('shop/web.0', port)] });
    for (let i = 0; i < 3; i++) expect((await call(r.port, { host: 'paasmaker.localhost' })).status).toBe(200);
    expect((await call(r.port, { host: 'shop.localhost' })).status).toBe(200);
    // The shop's request is counted once its answer is done; the console's three, answered before it, never are.
    const samples: Array<{ app: string; requests: number }> = [];
    await until(() => (samples.push(...r.traffic.drain()), samples.some((sample) => sample.app === 'shop')));
    expect(samples.map(({ app, requests }) => ({ app, requests }))).toEqual([{ app: 'shop', requests: 1 }]);
  });
});

async function until(test: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('Router, when a process dies under a request', () => {
  it('holds a retried request until the engine reports the restart, rather than failing it', async () => {
    const r = await router();
    // An upstream that accepts, then drops the connection before answering: a process dying mid-request.
    const dying = createServer((req) => req.socket.destroy());
    const dyingPort = await listen(dying);
    r.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [running('shop/web.0', dyingPort)], status: { state: 'running' } });
    const pending = call(r.port, { host: 'shop.localhost' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The engine hears of the exit, then of the new process.
    r.table.update('shop', 'web', { upstreams: [], status: { state: 'backoff', restarting: true } });
    const fresh = await app('fresh');
    r.table.update('shop', 'web', { upstreams: [running('shop/web.0', fresh)], status: { state: 'running' } });
    const answer = await pending;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body.toString()).name).toBe('fresh');
  });
});

describe('Router, when an app closes a kept-alive connection', () => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  /**
   * An app that answers with the method and the body's length, and drops a
   * connection that sat idle for over a second when the next request arrives
   * on it, unanswered: its keep-alive timeout (of a second, not announced)
   * firing just as the request goes out, the race every kept-alive pool meets.
   */
  async function closingApp() {
    let connections = 0;
    let dropped = 0;
    const sockets = new Set<Socket>();
    const server = createNetServer((socket: Socket) => {
      connections++;
      sockets.add(socket);
      let idleSince: number | undefined;
      let buffer = Buffer.alloc(0);
      socket.on('error', () => undefined);
      socket.on('data', (chunk: Buffer) => {
        if (idleSince !== undefined && Date.now() - idleSince > 1000) {
          dropped++;
          socket.destroy();
          return;
        }
        idleSince = undefined;
        buffer = Buffer.concat([buffer, chunk]);
        const end = buffer.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buffer.subarray(0, end).toString('latin1');
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffer.length < end + 4 + length) return;
        buffer = buffer.subarray(end + 4 + length);
        const body = `${head.slice(0, head.indexOf(' '))} ${length}`;
        socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
        idleSince = Date.now();
      });
    });
    const { port, close } = await listenOnLoopback(server);
    // A plain TCP server's close waits for its connections: the router's kept ones go first.
    cleanups.push(close, () => sockets.forEach((socket) => socket.destroy()));
    return { port, connections: () => connections, dropped: () => dropped };
  }

  it('sends a POST that cannot be sent twice on a new connection after a pause, never on one the app may be closing', { timeout: 10_000 }, async () => {
    const r = await router();
    const shop = await closingApp();
    r.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [running('shop/web.0', shop.port)], status: { state: 'running' } });
    const post = async () => {
      const answer = await call(r.port, { host: 'shop.localhost', method: 'POST', body: Buffer.from('hello'), headers: { 'content-type': 'text/plain' } });
      return `${answer.status} ${answer.body.toString()}`;
    };
    // Back to back, POSTs share the connection the router keeps.
    expect(await post()).toBe('200 POST 5');
    expect(await post()).toBe('200 POST 5');
    expect(shop.connections()).toBe(1);
    // After a pause the kept connection may be closing: a POST goes on a new one and is answered (not a 502).
    await sleep(1300);
    expect(await post()).toBe('200 POST 5');
    expect(shop.connections()).toBe(2);
    expect(shop.dropped()).toBe(0);
    // A GET may still take the kept one: dropped, it is sent again on a new connection, and answered.
    await sleep(1300);
    const get = await call(r.port, { host: 'shop.localhost' });
    expect(`${get.status} ${get.body.toString()}`).toBe('200 GET 0');
    expect(shop.dropped()).toBe(1);
  });

  it('closes a connection to a port it forgot once its request is answered, rather than keeping it for the next', { timeout: 10_000 }, async () => {
    const r = await router();
    const open = new Set<Socket>();
    const slow = createServer((req, res) => setTimeout(() => res.writeHead(200, { 'content-length': 2 }).end('ok'), 300));
    slow.on('connection', (socket: Socket) => {
      open.add(socket);
      socket.once('close', () => open.delete(socket));
    });
    const port = await listen(slow);
    r.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [running('shop/web.0', port)], status: { state: 'running' } });
    const pending = call(r.port, { host: 'shop.localhost' });
    await sleep(100);
    expect(open.size).toBe(1);
    // The process is about to stop (a rolling reload took it out of the router): the request in flight is still answered…
    r.forgetPort(port);
    expect((await pending).status).toBe(200);
    // …and its connection closes then, instead of waiting in the pool (4 s) and holding the process open.
    const closedBy = Date.now() + 500;
    while (open.size > 0 && Date.now() < closedBy) await sleep(10);
    expect(open.size).toBe(0);
  });
});
