import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import dnsPacket from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { DnsResponder } from '../../src/proxy/index.js';
import { rawClient, recordingApp, routerFor, sleep, type Cleanups } from './wire.js';

// Bad requests get an answer, slow ones a deadline, and no connection count
// or handler bug can take the router (and the platform with it) down.

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const H = 'Host: shop.localhost\r\n';

describe('bad requests get an answer, at once', () => {
  it.each([
    ['a size that is not hex', 'zz\r\nhello\r\n0\r\n\r\n'],
    ['a chunk longer than its size', '3\r\nhello\r\n0\r\n\r\n'],
    ['a chunk without its CRLF', '5\r\nhelloX0\r\n\r\n'],
    ['a size line ending in a bare LF', '5\nhello\r\n0\r\n\r\n'],
    ['a size with a 0x prefix', '0x5\r\nhello\r\n0\r\n\r\n'],
    ['a size of 17 hex digits', '10000000000000005\r\nhello\r\n0\r\n\r\n'],
    ['a trailer ending in a bare LF', '5\r\nhello\r\n0\r\nx: 1\n\r\n'],
  ])('a chunked body with %s gets 400 and a close, even after its head went on to the app', async (_name, body) => {
    const app = await recordingApp(cleanups);
    const { router } = await routerFor(cleanups, app.port);
    const client = rawClient(cleanups, router.port);
    client.write(`POST /upload HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n`);
    await sleep(80);
    client.write(body);
    expect(await client.until(() => client.answers().length > 0)).toBe(true);
    expect(client.answers()[0]!.status).toBe(400);
    expect(client.answers()[0]!.head).toMatch(/\r\nconnection: close/);
    await client.until(() => false, 1000);
    expect(client.closed).toBe(true);
    expect(app.seen, 'the app never got the broken request as a whole').toEqual([]);
  });

  it.each([
    ['an HTTP/0.9 request', 'GET /\r\n'],
    ['a head with bare LF line endings', 'GET / HTTP/1.1\nHost: shop.localhost\n\n'],
    ['a bare LF after the first header', `GET / HTTP/1.1\r\nHost: shop.localhost\nX-A: 1\n\n`],
    ['a TLS handshake', Buffer.from('16030100c4010000c00303', 'hex')],
    ['an SSH greeting', 'SSH-2.0-OpenSSH_9.6\r\n'],
    ['HTTP/2 with prior knowledge', 'PRI * HTTP/2.0\r\n'],
  ])('%s is refused with 400 as soon as it arrives, without waiting for a blank line', async (_name, raw) => {
    const app = await recordingApp(cleanups);
    const { router } = await routerFor(cleanups, app.port);
    const client = rawClient(cleanups, router.port);
    const started = Date.now();
    client.write(raw);
    expect(await client.until(() => client.closed, 2000)).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(client.text()).toMatch(/^HTTP\/1\.1 (400|505) /);
    expect(app.rawBytes).toBe(0);
  });

  it('answers a slowloris client, one byte at a time, with 408 once the head deadline passes', async () => {
    const app = await recordingApp(cleanups);
    const { router } = await routerFor(cleanups, app.port, { headTimeoutMs: 600 });
    const client = rawClient(cleanups, router.port);
    const head = `GET /slow HTTP/1.1\r\n${H}X-Padding: ${'a'.repeat(40)}\r\n\r\n`;
    const started = Date.now();
    for (let i = 0; i < head.length && !client.closed; i++) {
      client.write(head[i]!);
      await sleep(40);
    }
    expect(client.closed).toBe(true);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(client.text()).toMatch(/^HTTP\/1\.1 408 /);
    expect(app.seen).toEqual([]);
  });

  it('closes a kept-alive connection left idle past the idle deadline, and not one in use', async () => {
    const app = await recordingApp(cleanups);
    const { router } = await routerFor(cleanups, app.port, { idleTimeoutMs: 300 });
    const client = rawClient(cleanups, router.port);
    client.write(`GET /one HTTP/1.1\r\n${H}\r\n`);
    await client.until(() => client.answers().length === 1);
    await sleep(150);
    client.write(`GET /two HTTP/1.1\r\n${H}\r\n`);
    await client.until(() => client.answers().length === 2);
    expect(client.closed).toBe(false);
    expect(await client.until(() => client.closed, 2000)).toBe(true);
    expect(app.seen.map((seen) => seen.url)).toEqual(['/one', '/two']);
  });

  it('tells a kept-alive client its idle deadline (keep-alive: timeout=N), so a client that honours it closes first; not on a closing answer', async () => {
    const app = await recordingApp(cleanups);
    const { router } = await routerFor(cleanups, app.port, { idleTimeoutMs: 7_000 });
    const client = rawClient(cleanups, router.port);
    client.write(`GET /one HTTP/1.1\r\n${H}\r\nGET /nowhere HTTP/1.1\r\nHost: elsewhere.localhost\r\n\r\nGET /two HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
    await client.until(() => client.answers().length === 3);
    const [kept, page, last] = client.answers();
    expect(kept!.status).toBe(200);
    expect(kept!.head).toMatch(/\r\nkeep-alive: timeout=7$/);
    expect(page!.status).toBe(404);
    expect(page!.head).toMatch(/\r\nkeep-alive: timeout=7$/);
    expect(last!.head).toMatch(/\r\nconnection: close$/);
    expect(last!.head).not.toMatch(/keep-alive/i);
  });

  it('answers a request that arrived as the idle deadline passed, rather than resetting the connection under it', async () => {
    const app = await recordingApp(cleanups);
    const { router } = await routerFor(cleanups, app.port, { idleTimeoutMs: 300 });
    const client = rawClient(cleanups, router.port);
    client.write(`GET /one HTTP/1.1\r\n${H}\r\n`);
    await client.until(() => client.answers().length === 1);
    // A kept-alive client sends its next request just before the deadline, and the router's loop is
    // busy past it: when it turns again the deadline's timer runs first, with the request unread.
    await sleep(250);
    client.write(`GET /two HTTP/1.1\r\n${H}\r\n`);
    const busyUntil = Date.now() + 150;
    while (Date.now() < busyUntil) {
      // busy
    }
    await client.until(() => client.answers().length === 2);
    expect(client.answers().map((answer) => answer.status)).toEqual([200, 200]);
    expect(app.seen.map((seen) => seen.url)).toEqual(['/one', '/two']);
    // Idle again, it is closed at the deadline as before.
    expect(await client.until(() => client.closed, 2000)).toBe(true);
  });

  it('routes an absolute-form target by the host in the URI and sends the app that host and the path', async () => {
    const app = await recordingApp(cleanups);
    const { router } = await routerFor(cleanups, app.port);
    const client = rawClient(cleanups, router.port);
    client.write('GET http://a2.localhost?q=1 HTTP/1.1\r\nHost: somewhere.else\r\n\r\n');
    await client.until(() => client.answers().length === 1);
    expect(JSON.parse(client.answers()[0]!.body)).toMatchObject({ url: '/?q=1', host: 'a2.localhost' });
    expect(app.seen[0]!.headers['x-forwarded-host']).toBe('a2.localhost');
  });

  it.each([
    ['an ftp:// target', 'GET ftp://shop.localhost/file HTTP/1.1\r\nHost: shop.localhost\r\n\r\n'],
    ['a target with user information', 'GET http://user@shop.localhost/ HTTP/1.1\r\nHost: shop.localhost\r\n\r\n'],
    ['a target with no authority', 'GET http:///x HTTP/1.1\r\nHost: shop.localhost\r\n\r\n'],
    ['a target that is no URI at all', 'GET shop.localhost/x HTTP/1.1\r\nHost: shop.localhost\r\n\r\n'],
  ])('refuses %s with 400', async (_name, raw) => {
    const app = await recordingApp(cleanups);
    const { router } = await routerFor(cleanups, app.port);
    const client = rawClient(cleanups, router.port);
    client.write(raw);
    await client.until(() => client.closed);
    expect(client.text()).toMatch(/^HTTP\/1\.1 400 /);
    expect(app.rawBytes).toBe(0);
  });
});

describe('app connections kept alive only when both ends agree where they are', () => {
  it('after an app declines a WebSocket upgrade, the next request, even a malformed one, is answered', async () => {
    const app = await recordingApp(cleanups);
    const { router } = await routerFor(cleanups, app.port);
    const first = rawClient(cleanups, router.port);
    first.write(`GET /ws HTTP/1.1\r\n${H}Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n`);
    expect(await first.until(() => first.answers().length === 1)).toBe(true);
    expect(first.answers()[0]!.status).toBe(200);
    // Node's parser ignores a bad request line on a connection that carried a declined upgrade.
    const second = rawClient(cleanups, router.port);
    second.write(`ET /next HTTP/1.1\r\n${H}\r\n`);
    expect(await second.until(() => second.text().length > 0, 2000)).toBe(true);
    expect(second.text()).toMatch(/^HTTP\/1\.1 400 /);
  });
});

describe('a connection cap that sheds idle connections first', () => {
  it('at the cap, a newcomer is served and the longest idle connection is closed for it', async () => {
    const app = await recordingApp(cleanups);
    const { router } = await routerFor(cleanups, app.port, { maxConnections: 10 });
    const idle = [];
    for (let i = 0; i < 10; i++) {
      idle.push(rawClient(cleanups, router.port));
      await sleep(10);
    }
    await sleep(100);
    const fresh = rawClient(cleanups, router.port);
    fresh.write(`GET /fresh HTTP/1.1\r\n${H}\r\n`);
    expect(await fresh.until(() => fresh.answers().length === 1)).toBe(true);
    expect(JSON.parse(fresh.answers()[0]!.body).url).toBe('/fresh');
    await idle[0]!.until(() => idle[0]!.closed, 1000);
    expect(idle.map((client) => client.closed)).toEqual([true, false, false, false, false, false, false, false, false, false]);
    expect(router.connections.size).toBe(10);
    // A connection that answered a request and went quiet is idle again, and goes before the busy.
    const second = rawClient(cleanups, router.port);
    second.write(`GET /second HTTP/1.1\r\n${H}\r\n`);
    expect(await second.until(() => second.answers().length === 1)).toBe(true);
    expect(idle[1]!.closed || (await idle[1]!.until(() => idle[1]!.closed, 1000))).toBe(true);
  });

  it('when every connection is busy, a newcomer is turned away and the busy ones finish', async () => {
    const app = await recordingApp(cleanups);
    const { router } = await routerFor(cleanups, app.port, { maxConnections: 5 });
    const busy = [];
    for (let i = 0; i < 5; i++) {
      const client = rawClient(cleanups, router.port);
      client.write(`GET /busy-${i} HTTP/1.1\r\n${H}`);
      busy.push(client);
    }
    await sleep(150);
    const extra = rawClient(cleanups, router.port);
    extra.write(`GET /extra HTTP/1.1\r\n${H}\r\n`);
    expect(await extra.until(() => extra.closed, 2000)).toBe(true);
    expect(extra.text()).toBe('');
    for (const client of busy) client.write('\r\n');
    for (const client of busy) expect(await client.until(() => client.answers().length === 1)).toBe(true);
    expect(app.seen.map((seen) => seen.url).sort()).toEqual(['/busy-0', '/busy-1', '/busy-2', '/busy-3', '/busy-4']);
  });

  it('without a cap set, derives one from the open-files limit, never below 64', async () => {
    const { maxClientConnections } = await import('../../src/proxy/connection-limit.js');
    expect(maxClientConnections()).toBeGreaterThanOrEqual(64);
  });
});

describe('no handler exception stops the router', () => {
  it('a page that throws answers 500, is logged with its stack, and the next request is served', async () => {
    const app = await recordingApp(cleanups);
    const { router, logged } = await routerFor(cleanups, app.port);
    router.table.setApp('broken', {
      hostnames: ['broken.localhost'],
      upstreams: [],
      status: {
        state: 'crashed',
        tail: () => {
          throw new Error('the log tail is gone');
        },
      },
    });
    const client = rawClient(cleanups, router.port);
    client.write('GET / HTTP/1.1\r\nHost: broken.localhost\r\n\r\n');
    await client.until(() => client.closed);
    expect(client.text()).toMatch(/^HTTP\/1\.1 500 /);
    expect(logged.join('\n')).toMatch(/bug.*the log tail is gone[\s\S]*at /);
    const next = rawClient(cleanups, router.port);
    next.write(`GET /after HTTP/1.1\r\n${H}\r\n`);
    expect(await next.until(() => next.answers().length === 1)).toBe(true);
    expect(next.answers()[0]!.status).toBe(200);
  });

  it('the DNS responder lives through 500 mangled datagrams and still answers', async () => {
    const dns = new DnsResponder({ port: 0 });
    await dns.listen();
    cleanups.push(() => dns.close());
    const socket = createSocket('udp4');
    cleanups.push(() => socket.close());
    const query = dnsPacket.encode({ type: 'query', id: 7, questions: [{ type: 'A', name: 'shop.local.paasmaker' }] });
    for (let i = 0; i < 500; i++) {
      const packet = Buffer.from(query.subarray(0, 1 + (i % query.length)));
      for (let flips = 0; flips < 3; flips++) packet[(i * 7 + flips * 13) % packet.length] = (i * 31 + flips) & 0xff;
      socket.send(i % 50 === 0 ? Buffer.alloc(0) : packet, dns.port, '127.0.0.1');
    }
    await sleep(100);
    const resolver = new Resolver({ timeout: 2000, tries: 3 }); // UDP on a loaded machine: a lost datagram is not a dead responder
    resolver.setServers([`127.0.0.1:${dns.port}`]);
    expect(await resolver.resolve4('shop.local.paasmaker')).toEqual(['127.0.0.1']);
  });
});

describe('deadlines never cut off a healthy exchange', () => {
  it('a large upload to an app that waits before reading its body is not answered 408, however long the wait', async () => {
    const { createServer } = await import('node:http');
    const app = createServer((req, res) => {
      req.pause();
      // The app thinks first (longer than the router's idle deadline), then reads everything.
      setTimeout(() => {
        let length = 0;
        req.on('data', (chunk: Buffer) => (length += chunk.length));
        req.on('end', () => res.end(`read ${length}`));
        req.resume();
      }, 900);
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => app.close(() => resolve())));
    const { router } = await routerFor(cleanups, (app.address() as { port: number }).port, { idleTimeoutMs: 300 });
    const size = 16 * 1024 * 1024;
    const client = rawClient(cleanups, router.port);
    client.write(`POST /upload HTTP/1.1\r\n${H}Content-Length: ${size}\r\n\r\n`);
    const block = Buffer.alloc(256 * 1024, 0x61);
    for (let sent = 0; sent < size; sent += block.length) client.write(block);
    expect(await client.until(() => client.answers().length === 1, 10_000)).toBe(true);
    expect(client.answers()[0]).toMatchObject({ status: 200, body: `read ${size}` });
  });
});

describe('the connection cap never sheds a connection still sending its answer', () => {
  it('skips an idle connection whose answer is still on its way to a slow reader, and sheds the next idle one', async () => {
    const { ConnectionLimit } = await import('../../src/proxy/connection-limit.js');
    const connection = (name: string, flushing: boolean) => ({ name, flushing, closed: false, shed() { this.closed = true; } });
    const limit = new ConnectionLimit<ReturnType<typeof connection>>(2);
    const slowReader = connection('slow reader', true);
    const quiet = connection('quiet', false);
    limit.add(slowReader);
    limit.add(quiet);
    expect(limit.admit()).toBe(true);
    expect([slowReader.closed, quiet.closed]).toEqual([false, true]);
    const newcomer = connection('newcomer', false);
    limit.add(newcomer);
    limit.markBusy(newcomer);
    // Only the slow reader is idle now, and it is still sending: the next newcomer is turned away.
    expect(limit.admit()).toBe(false);
    expect(slowReader.closed).toBe(false);
    slowReader.flushing = false;
    expect(limit.admit()).toBe(true);
    expect(slowReader.closed).toBe(true);
  });
});
