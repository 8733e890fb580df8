import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { closedPort, listenOnLoopback } from '../helpers/servers.js';
import { Router, type RouterOptions, type Upstream } from '../../src/proxy/index.js';
import { rawClient, recordingApp, sleep, type Cleanups } from './wire.js';

// Requests held while an instance starts or restarts, and where they go when
// it is back: each test is a restart a user lives through, told by what the
// client gets and what reached the app.

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const running = (key: string, port: number): Upstream => ({ key, port, state: 'running' });

async function holdingRouter(options: Partial<RouterOptions> = {}) {
  const logged: string[] = [];
  const router = new Router({ port: 0, hosts: ['127.0.0.1'], holdTimeoutMs: 3000, log: (line) => logged.push(line), ...options });
  await router.listen();
  cleanups.push(() => router.close());
  return { router, logged };
}

/** One request on a connection of its own; resolves with the answer, and when it came. */
function send(port: number, path: string, host = 'shop.localhost', extra = '') {
  const client = rawClient(cleanups, port);
  client.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}\r\n`);
  const started = Date.now();
  const answered = (async () => {
    expect(await client.until(() => client.answers().length > 0, 8000), `an answer to ${path}`).toBe(true);
    return { ...client.answers()[0]!, ms: Date.now() - started };
  })();
  answered.catch(() => undefined);
  return { client, answered };
}

/** A process that dies under every request: it accepts the connection and drops it unanswered. */
async function dyingApp(): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const server: NetServer = createNetServer((socket: Socket) => {
    connections++;
    socket.on('error', () => undefined);
    socket.destroy();
  });
  const { port, close } = await listenOnLoopback(server);
  cleanups.push(close);
  return { port, connections: () => connections };
}

/** An app that answers /slow after 600 ms and anything else at once, with the path it was asked for. */
async function slowAndFastApp(): Promise<{ port: number; seen: string[] }> {
  const seen: string[] = [];
  const server = createHttpServer((req, res) => {
    seen.push(req.url!);
    const answer = () => res.writeHead(200, { 'content-length': Buffer.byteLength(req.url!) }).end(req.url);
    if (req.url === '/slow') setTimeout(answer, 600);
    else answer();
  });
  const { port, close } = await listenOnLoopback(server);
  cleanups.push(close);
  return { port, seen };
}

async function until(test: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(5);
  }
}

const urls = (seen: Array<{ url: string }>) => seen.map((request) => request.url);

describe('requests held while an instance starts', () => {
  it('holds three requests on one starting instance and answers every one, in order, once it is ready; a second restart does the same', async () => {
    const app = await recordingApp(cleanups);
    const { router } = await holdingRouter();
    router.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [], status: { state: 'starting' } });
    const first = [];
    for (const path of ['/1', '/2', '/3']) {
      first.push(send(router.port, path));
      await sleep(30);
    }
    await sleep(100);
    expect(app.seen).toEqual([]);
    router.table.update('shop', 'web', { upstreams: [running('shop/web.0', app.port)], status: { state: 'running' } });
    const answers = await Promise.all(first.map((request) => request.answered));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    expect(answers.map((answer) => JSON.parse(answer.body).url)).toEqual(['/1', '/2', '/3']);
    expect(urls(app.seen)).toEqual(['/1', '/2', '/3']);
    // Nothing is kept for requests that are gone: a platform that runs for weeks restarts apps thousands of times.
    expect(router['held'].size).toBe(0);

    router.table.update('shop', 'web', { upstreams: [], status: { state: 'backoff', restarting: true } });
    const second = [send(router.port, '/4'), send(router.port, '/5')];
    await sleep(100);
    router.table.update('shop', 'web', { upstreams: [running('shop/web.1', app.port)], status: { state: 'running' } });
    expect((await Promise.all(second.map((request) => request.answered))).map((answer) => answer.status)).toEqual([200, 200]);
    expect(urls(app.seen)).toEqual(['/1', '/2', '/3', '/4', '/5']);
    expect(router['held'].size).toBe(0);
  });

  it('a request whose client left while it was held never reaches the app; the one held beside it is answered as soon as the app is ready', async () => {
    const app = await recordingApp(cleanups);
    const { router } = await holdingRouter();
    router.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [], status: { state: 'starting' } });
    const gone = send(router.port, '/gone');
    const stays = send(router.port, '/stays');
    await sleep(100);
    // Gone for good (a reset); a FIN alone is a half-close, which HTTP/1.1 lets a client do after its request.
    gone.client.socket.resetAndDestroy();
    await sleep(100);
    router.table.update('shop', 'web', { upstreams: [running('shop/web.0', app.port)], status: { state: 'running' } });
    const answer = await stays.answered;
    expect(answer.status).toBe(200);
    expect(answer.ms).toBeLessThan(2000); // well before the 3 s hold timeout
    await sleep(100);
    expect(urls(app.seen)).toEqual(['/stays']);
  });

  it('a held request is answered once: later changes of its app and its hold timeout leave it and its connection alone', async () => {
    const app = await recordingApp(cleanups);
    const { router, logged } = await holdingRouter({ holdTimeoutMs: 400 });
    router.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [], status: { state: 'starting' } });
    const client = rawClient(cleanups, router.port);
    client.write('GET /once HTTP/1.1\r\nHost: shop.localhost\r\n\r\n');
    await sleep(100);
    router.table.update('shop', 'web', { upstreams: [running('shop/web.0', app.port)], status: { state: 'running' } });
    expect(await client.until(() => client.answers().length > 0)).toBe(true);
    expect(client.answers()[0]!.status).toBe(200);
    router.table.update('shop', 'web', { status: { state: 'running' } });
    await sleep(500); // past the hold timeout
    expect(client.closed).toBe(false);
    expect(client.answers()).toHaveLength(1);
    expect(urls(app.seen)).toEqual(['/once']);
    // The kept-alive connection goes on serving.
    client.write('GET /again HTTP/1.1\r\nHost: shop.localhost\r\n\r\n');
    expect(await client.until(() => client.answers().length > 1)).toBe(true);
    expect(client.answers().map((answer) => answer.status)).toEqual([200, 200]);
    expect(urls(app.seen)).toEqual(['/once', '/again']);
    expect(logged).toEqual([]);
  });

  it('an instance that keeps reporting "starting" without becoming ready does not extend the hold: the request gets the timeout page on time', async () => {
    const { router } = await holdingRouter({ holdTimeoutMs: 500 });
    router.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [], status: { state: 'starting' } });
    const request = send(router.port, '/');
    let reporting = true;
    const reports = (async () => {
      while (reporting) {
        await sleep(100);
        router.table.update('shop', 'web', { upstreams: [], status: { state: 'starting' } });
      }
    })();
    const answer = await request.answered;
    reporting = false;
    await reports;
    expect(answer.status).toBe(503);
    expect(answer.body).toContain('shop/web did not become ready within the 0.5 s the router holds a request');
    expect(answer.ms).toBeLessThan(1200);
  });

  it('a held request gets the page at once when its instance crashes, saying why, not after the hold timeout', async () => {
    const { router } = await holdingRouter();
    router.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [], status: { state: 'starting' } });
    const request = send(router.port, '/');
    await sleep(150);
    router.table.update('shop', 'web', { upstreams: [], status: { state: 'crashed', reason: 'exited with code 1' } });
    const answer = await request.answered;
    expect(answer.status).toBe(503);
    expect(answer.body).toMatch(/^shop\/web is crashed: exited with code 1\n/);
    expect(answer.ms).toBeLessThan(1500);
  });

  it('a request held on an app that is removed gets the page of its state at once, not the hold-timeout wording', async () => {
    const { router } = await holdingRouter();
    router.table.setApp('gone', { hostnames: ['gone.localhost'], upstreams: [], status: { state: 'starting' } });
    const request = send(router.port, '/', 'gone.localhost');
    await sleep(150);
    router.table.removeApp('gone');
    const answer = await request.answered;
    expect(answer.status).toBe(503);
    expect(answer.body).toMatch(/^gone\/web is /);
    expect(answer.body).not.toContain('did not become ready');
    expect(answer.ms).toBeLessThan(1500);
  });

  it("another app's change, or another instance type's of the same app, leaves a held request waiting for its own", async () => {
    const shop = await recordingApp(cleanups);
    const blog = await recordingApp(cleanups);
    const { router } = await holdingRouter();
    router.table.setApp('shop', [
      { instance: 'web', hostnames: ['shop.localhost'], upstreams: [], status: { state: 'starting' } },
      { instance: 'admin', hostnames: ['admin.shop.localhost'], upstreams: [], status: { state: 'starting' } },
    ]);
    router.table.setApp('blog', { hostnames: ['blog.localhost'], upstreams: [], status: { state: 'starting' } });
    const request = send(router.port, '/mine');
    await sleep(100);
    // blog/web: the same instance type in another app, replaced, then ready.
    router.table.setApp('blog', { hostnames: ['blog.localhost'], upstreams: [], status: { state: 'starting' } });
    router.table.update('blog', 'web', { upstreams: [running('blog/web.0', blog.port)], status: { state: 'running' } });
    // shop/admin: another instance type of the same app, ready.
    router.table.update('shop', 'admin', { upstreams: [running('shop/admin.0', blog.port)], status: { state: 'running' } });
    await sleep(100);
    expect(request.client.answers()).toEqual([]);
    router.table.update('shop', 'web', { upstreams: [running('shop/web.0', shop.port)], status: { state: 'running' } });
    const answer = await request.answered;
    expect(answer.status).toBe(200);
    expect(urls(shop.seen)).toEqual(['/mine']);
    expect(blog.seen).toEqual([]);
  });

  it('a hold that times out: a browser gets the HTML page, other clients a line of text, both 503 naming the timeout', async () => {
    const { router } = await holdingRouter({ holdTimeoutMs: 300 });
    router.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [], status: { state: 'starting' } });
    // A browser's Accept, then its Cookie (another six-letter header).
    const browser = send(router.port, '/', 'shop.localhost', 'Accept: text/html,application/xhtml+xml\r\nCookie: session=1\r\n');
    const curl = send(router.port, '/', 'shop.localhost', 'Accept: */*\r\nX-Html: text/html\r\n');
    const [html, text] = await Promise.all([browser.answered, curl.answered]);
    expect([html.status, text.status]).toEqual([503, 503]);
    expect(html.head).toMatch(/\r\ncontent-type: text\/html/i);
    expect(html.body).toMatch(/^<!doctype html>/);
    expect(html.body).toContain('shop/web did not become ready within the 0.3 s the router holds a request');
    expect(text.head).toMatch(/\r\ncontent-type: text\/plain/i);
    expect(text.body).toMatch(/^shop\/web did not become ready within the 0\.3 s the router holds a request\n/);
  });
});

describe('requests whose process dies or refuses', () => {
  it('a request retried after its process died goes to another ready process, never back to the dead one', async () => {
    const dying = await dyingApp();
    const healthy = await slowAndFastApp();
    const { router } = await holdingRouter();
    router.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [running('shop/web.0', dying.port), running('shop/web.1', healthy.port)], status: { state: 'running' } });
    // The healthy process is busy with a slow request: the least loaded one is the dead one.
    const slow = send(router.port, '/slow');
    await until(() => healthy.seen.includes('/slow'));
    const before = dying.connections();
    const answer = await send(router.port, '/fast').answered;
    expect(answer.status, answer.body).toBe(200);
    expect(answer.body).toBe('/fast');
    expect(dying.connections(), 'the first try went to the dead process').toBe(before + 1);
    expect((await slow.answered).status).toBe(200);
    expect(healthy.seen).toEqual(['/slow', '/fast']);
  });

  it('a retried request waits while the engine still reports the instance running with no process, and the new process answers it', async () => {
    const dying = await dyingApp();
    const { router } = await holdingRouter();
    router.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [running('shop/web.0', dying.port)], status: { state: 'running' } });
    const request = send(router.port, '/');
    await sleep(150);
    expect(dying.connections()).toBe(1);
    // The process is gone from the list before the engine has a new state for the instance.
    router.table.update('shop', 'web', { upstreams: [] });
    await sleep(150);
    expect(request.client.answers()).toEqual([]);
    const fresh = await recordingApp(cleanups);
    router.table.update('shop', 'web', { upstreams: [running('shop/web.0', fresh.port)], status: { state: 'running' } });
    const answer = await request.answered;
    expect(answer.status).toBe(200);
    expect(urls(fresh.seen)).toEqual(['/']);
  });

  it('a request whose process dies while its app is stopping is answered 503 at once, not held', async () => {
    const dying = await dyingApp();
    const { router } = await holdingRouter();
    router.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [running('shop/web.0', dying.port)], status: { state: 'stopping' } });
    const answer = await send(router.port, '/').answered;
    expect(answer.status).toBe(503);
    expect(answer.body).toMatch(/^shop\/web is stopping\n/);
    expect(answer.ms).toBeLessThan(1500);
    expect(dying.connections()).toBe(1);
  });

  it('a process that refused a connection gets no request until the engine reports it again; the requests wait and its restart answers them', async () => {
    const port = await closedPort();
    const { router } = await holdingRouter();
    router.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [running('shop/web.0', port)] });
    const first = send(router.port, '/first');
    await sleep(100);
    // The process comes back on the same port; the engine has not said so yet.
    const app = await recordingAppOn(port);
    const second = send(router.port, '/second');
    await sleep(300);
    expect(app.seen, 'nothing goes to a process that refused, within its second').toEqual([]);
    expect(first.client.answers()).toEqual([]);
    expect(second.client.answers()).toEqual([]);
    router.table.update('shop', 'web', { upstreams: [running('shop/web.0', port)], status: { state: 'running' } });
    const answers = await Promise.all([first.answered, second.answered]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    expect(urls(app.seen).sort()).toEqual(['/first', '/second']);
  });
});

describe('a router without the request inspector', () => {
  it('answers and counts requests with requestLog 0, and logs no failure', async () => {
    const app = await recordingApp(cleanups);
    const { router, logged } = await holdingRouter({ requestLog: 0 });
    router.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [running('shop/web.0', app.port)] });
    expect(router.requests).toBeUndefined();
    const client = rawClient(cleanups, router.port);
    for (let i = 1; i <= 3; i++) {
      client.write(`GET /${i} HTTP/1.1\r\nHost: shop.localhost\r\n\r\n`);
      expect(await client.until(() => client.answers().length >= i)).toBe(true);
    }
    expect(client.answers().map((answer) => answer.status)).toEqual([200, 200, 200]);
    expect(client.closed).toBe(false);
    await sleep(50);
    expect(router.traffic.drain()).toMatchObject([{ app: 'shop', requests: 3 }]);
    expect(logged).toEqual([]);
  });
});

/** An app on a given port (a process restarted where it was) that records the paths it was asked for. */
async function recordingAppOn(port: number): Promise<{ seen: Array<{ url: string }> }> {
  const seen: Array<{ url: string }> = [];
  const server = createHttpServer((req, res) => {
    seen.push({ url: req.url! });
    res.writeHead(200, { 'content-length': 2 }).end('ok');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  cleanups.push(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  return { seen };
}
