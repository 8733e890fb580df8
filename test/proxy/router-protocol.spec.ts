import { createHash, randomBytes } from 'node:crypto';
import { Agent, createServer, request, type Server } from 'node:http';
import { connect, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { listenOnLoopback } from '../helpers/servers.js';
import { Router } from '../../src/proxy/index.js';

// HTTP/1.1 through the router on raw sockets: the framing cases a browser,
// curl or a test client will hit sooner or later.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listen(server: Server | NetServer): Promise<number> {
  const { port, close } = await listenOnLoopback(server);
  cleanups.push(close);
  return port;
}

/** A router with one app, `shop.localhost`, on the given port. */
async function routerFor(port: number): Promise<Router> {
  const router = new Router({ port: 0, hosts: ['127.0.0.1'] });
  await router.listen();
  cleanups.push(() => router.close());
  router.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [{ key: 'shop/web.0', port, state: 'running' }] });
  return router;
}

/** A raw client connection: write bytes, read what comes back. */
function rawClient(port: number) {
  const socket = connect(port, '127.0.0.1');
  cleanups.push(() => void socket.destroy());
  const chunks: Buffer[] = [];
  let size = 0;
  const all = () => Buffer.concat(chunks).toString('latin1');
  let ended = false;
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    size += chunk.length;
  });
  socket.on('end', () => (ended = true));
  socket.on('error', () => (ended = true));
  socket.on('close', () => (ended = true));
  return {
    socket,
    write: (data: string | Buffer) => socket.write(data),
    text: all,
    get ended() {
      return ended;
    },
    get size() {
      return size;
    },
    async waitFor(test: (text: string) => boolean, timeoutMs = 5000): Promise<string> {
      await until(() => test(all()), timeoutMs);
      return all();
    },
    async waitForEnd(timeoutMs = 5000): Promise<string> {
      await until(() => ended, timeoutMs);
      return all();
    },
  };
}

async function until(test: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** An app that echoes method, url, body size and hash; counts its connections. */
async function echoApp() {
  let connections = 0;
  const server = createServer((req, res) => {
    const hash = createHash('sha256');
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      size += chunk.length;
    });
    req.on('end', () => {
      if (req.url === '/nothing') {
        res.writeHead(204).end();
        return;
      }
      if (req.url === '/cached') {
        res.writeHead(304, { etag: '"x"' }).end();
        return;
      }
      const body = JSON.stringify({ method: req.method, url: req.url, host: req.headers.host, size, sha: hash.digest('hex') });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    });
  });
  server.on('connection', () => connections++);
  const port = await listen(server);
  return { port, connections: () => connections };
}

const responses = (text: string) => text.split(/(?=HTTP\/1\.1 \d{3} )/).filter(Boolean);

describe('Router framing', () => {
  it('keeps client and app connections alive: 30 requests, one client socket, one app connection', async () => {
    const app = await echoApp();
    const router = await routerFor(app.port);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => agent.destroy());
    const sockets = new Set<Socket>();
    for (let i = 0; i < 30; i++) {
      const body = await new Promise<string>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: router.port, path: `/n${i}`, headers: { host: 'shop.localhost' }, agent }, (res) => {
          let text = '';
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => resolve(text));
        });
        req.on('socket', (socket) => sockets.add(socket));
        req.on('error', reject);
        req.end();
      });
      expect(JSON.parse(body).url).toBe(`/n${i}`);
    }
    expect(sockets.size).toBe(1);
    expect(app.connections()).toBe(1);
  });

  it('answers pipelined requests in order', async () => {
    const app = await echoApp();
    const router = await routerFor(app.port);
    const client = rawClient(router.port);
    client.write('GET /1 HTTP/1.1\r\nHost: shop.localhost\r\n\r\nGET /2 HTTP/1.1\r\nHost: shop.localhost\r\n\r\nPOST /3 HTTP/1.1\r\nHost: shop.localhost\r\nContent-Length: 3\r\n\r\nabcGET /4 HTTP/1.1\r\nHost: shop.localhost\r\n\r\n');
    const text = await client.waitFor((seen) => responses(seen).length === 4 && seen.endsWith('}'));
    expect(responses(text).map((response) => JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)).url)).toEqual(['/1', '/2', '/3', '/4']);
    expect(client.ended).toBe(false);
  });

  it('passes a chunked request body through intact, split at awkward places', async () => {
    const app = await echoApp();
    const router = await routerFor(app.port);
    const client = rawClient(router.port);
    const body = randomBytes(70_000);
    const chunked = Buffer.concat([Buffer.from('4;ext=1\r\n'), body.subarray(0, 4), Buffer.from(`\r\n${(body.length - 4).toString(16)}\r\n`), body.subarray(4), Buffer.from('\r\n0\r\nx-trailer: yes\r\n\r\n')]);
    client.write('POST /upload HTTP/1.1\r\nHost: shop.localhost\r\nTransfer-Encoding: chunked\r\n\r\n');
    for (let at = 0; at < chunked.length; at += 7001) {
      client.write(chunked.subarray(at, at + 7001));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const text = await client.waitFor((seen) => seen.endsWith('}'));
    const seen = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
    expect(seen).toMatchObject({ method: 'POST', size: body.length, sha: createHash('sha256').update(body).digest('hex') });
  });

  it('streams a chunked response as it is written, then serves the next request on the same connection', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/slow') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first ');
        setTimeout(() => res.end('last'), 500);
      } else res.end('again');
    });
    const router = await routerFor(await listen(server));
    const client = rawClient(router.port);
    const started = Date.now();
    client.write('GET /slow HTTP/1.1\r\nHost: shop.localhost\r\n\r\n');
    const early = await client.waitFor((seen) => seen.includes('first '));
    expect(Date.now() - started).toBeLessThan(400);
    expect(early).toMatch(/transfer-encoding: chunked/i);
    expect(early).not.toContain('last');
    await client.waitFor((seen) => seen.endsWith('0\r\n\r\n'));
    client.write('GET /next HTTP/1.1\r\nHost: shop.localhost\r\n\r\n');
    await client.waitFor((seen) => seen.endsWith('again'));
  });

  it('sends no body for HEAD, 204 and 304, and stays in step for the next request', async () => {
    const app = await echoApp();
    const router = await routerFor(app.port);
    const client = rawClient(router.port);
    client.write('HEAD /h HTTP/1.1\r\nHost: shop.localhost\r\n\r\nGET /nothing HTTP/1.1\r\nHost: shop.localhost\r\n\r\nGET /cached HTTP/1.1\r\nHost: shop.localhost\r\n\r\nGET /after HTTP/1.1\r\nHost: shop.localhost\r\n\r\n');
    const text = await client.waitFor((seen) => seen.includes('"/after"'));
    const parts = responses(text);
    expect(parts.map((part) => part.slice(9, 12))).toEqual(['200', '204', '304', '200']);
    expect(parts[0]).toMatch(/content-length: \d+\r\n/i);
    expect(parts[0]!.endsWith('\r\n\r\n')).toBe(true);
    expect(parts[1]!.endsWith('\r\n\r\n')).toBe(true);
    expect(parts[2]!.endsWith('\r\n\r\n')).toBe(true);
  });

  it('relays 100 Continue, then the body, then the answer', async () => {
    const app = await echoApp();
    const router = await routerFor(app.port);
    const client = rawClient(router.port);
    client.write('PUT /big HTTP/1.1\r\nHost: shop.localhost\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
    await client.waitFor((seen) => seen.startsWith('HTTP/1.1 100 Continue\r\n\r\n'));
    client.write('hello');
    const text = await client.waitFor((seen) => seen.endsWith('}'));
    expect(JSON.parse(text.slice(text.lastIndexOf('\r\n\r\n') + 4))).toMatchObject({ method: 'PUT', size: 5 });
  });

  it('passes a response delimited by the app closing, and closes the client after it', async () => {
    const server = createNetServer((socket) => {
      socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end'));
    });
    const router = await routerFor(await listen(server));
    const client = rawClient(router.port);
    client.write('GET / HTTP/1.1\r\nHost: shop.localhost\r\n\r\n');
    const text = await client.waitForEnd();
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text).toContain('connection: close\r\n');
    expect(text.endsWith('\r\n\r\nuntil the end')).toBe(true);
  });

  it('cuts the client off when the app dies in the middle of a body, rather than pretending it ended', async () => {
    const server = createNetServer((socket) => {
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly ten b');
        setTimeout(() => socket.destroy(), 50);
      });
    });
    const router = await routerFor(await listen(server));
    const outcome = await new Promise<string>((resolve) => {
      const req = request({ host: '127.0.0.1', port: router.port, headers: { host: 'shop.localhost' } }, (res) => {
        res.on('data', () => {});
        res.on('end', () => resolve('complete'));
        res.on('aborted', () => resolve('aborted'));
        res.on('error', () => resolve('aborted'));
      });
      req.on('error', () => resolve('aborted'));
      req.end();
    });
    expect(outcome).toBe('aborted');
  });

  it('retries on a fresh connection when the app drops a kept-alive one as a request arrives', async () => {
    // The app answers the first request on each connection and drops the connection on the second.
    let connections = 0;
    const server = createNetServer((socket) => {
      connections++;
      let requests = 0;
      socket.on('data', () => {
        if (++requests === 1) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
        else socket.destroy();
      });
    });
    const router = await routerFor(await listen(server));
    const client = rawClient(router.port);
    client.write('GET /a HTTP/1.1\r\nHost: shop.localhost\r\n\r\n');
    await client.waitFor((seen) => responses(seen).length === 1 && seen.endsWith('ok'));
    client.write('GET /b HTTP/1.1\r\nHost: shop.localhost\r\n\r\n');
    const text = await client.waitFor((seen) => responses(seen).length === 2 && seen.endsWith('ok'));
    expect(responses(text).map((part) => part.slice(9, 12))).toEqual(['200', '200']);
    expect(connections).toBe(2);
  });

  it('routes an absolute-form request by its authority and sends the app the path', async () => {
    const app = await echoApp();
    const router = await routerFor(app.port);
    const client = rawClient(router.port);
    client.write('GET http://shop.localhost/deep/path?q=1 HTTP/1.1\r\nHost: elsewhere.localhost\r\n\r\n');
    const text = await client.waitFor((seen) => seen.endsWith('}'));
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({ url: '/deep/path?q=1', host: 'shop.localhost' });
  });

  it('answers a client that half-closes after its request, then closes', async () => {
    const app = await echoApp();
    const router = await routerFor(app.port);
    const client = rawClient(router.port);
    client.socket.end('GET /bye HTTP/1.1\r\nHost: shop.localhost\r\n\r\n');
    const text = await client.waitForEnd();
    expect(text).toContain('"/bye"');
  });

  it('serves HTTP/1.0 clients, closing after each answer', async () => {
    const app = await echoApp();
    const router = await routerFor(app.port);
    const client = rawClient(router.port);
    client.write('GET /old HTTP/1.0\r\nHost: shop.localhost\r\n\r\n');
    const text = await client.waitForEnd();
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(text).toContain('"/old"');
  });

  it.each([
    ['both Content-Length and Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: shop.localhost\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    ['two different Content-Lengths', 'POST / HTTP/1.1\r\nHost: shop.localhost\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd', 400],
    ['a folded header line', 'GET / HTTP/1.1\r\nHost: shop.localhost\r\nX-A: 1\r\n  folded\r\n\r\n', 400],
    ['a space before the colon', 'GET / HTTP/1.1\r\nHost : shop.localhost\r\n\r\n', 400],
    ['no Host in HTTP/1.1', 'GET / HTTP/1.1\r\n\r\n', 400],
    ['a garbage request line', 'HELLO\r\n\r\n', 400],
    ['an HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 505],
    ['an unknown transfer coding', 'POST / HTTP/1.1\r\nHost: shop.localhost\r\nTransfer-Encoding: gzip\r\n\r\n', 501],
  ])('refuses %s with %i and closes', async (_name, raw, status) => {
    const app = await echoApp();
    const router = await routerFor(app.port);
    const client = rawClient(router.port);
    client.write(raw);
    const text = await client.waitForEnd();
    expect(text.slice(0, 12)).toBe(`HTTP/1.1 ${status}`);
    expect(text).toContain('connection: close');
    expect(app.connections()).toBe(0);
  });

  it('refuses a request head over 64 KiB with 431', async () => {
    const app = await echoApp();
    const router = await routerFor(app.port);
    const client = rawClient(router.port);
    client.write(`GET / HTTP/1.1\r\nHost: shop.localhost\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`);
    expect((await client.waitForEnd()).slice(0, 12)).toBe('HTTP/1.1 431');
  });

  it('answers a POST to an app that refuses connections with a 502 naming the port', async () => {
    const closed = createNetServer();
    const port = await listen(closed);
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const router = await routerFor(port);
    const client = rawClient(router.port);
    client.write('POST /form HTTP/1.1\r\nHost: shop.localhost\r\nContent-Length: 4\r\n\r\nname');
    const text = await client.waitFor((seen) => seen.includes('ECONNREFUSED'));
    expect(text.slice(0, 12)).toBe('HTTP/1.1 502');
    expect(text).toContain(`127.0.0.1:${port}`);
  });

  it('keeps a slow reader from making the router buffer a whole large download', async () => {
    const size = 32 * 1024 * 1024;
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-length': size });
      const block = Buffer.alloc(1024 * 1024, 1);
      let sent = 0;
      const pump = () => {
        while (sent < size) {
          sent += block.length;
          if (!res.write(block)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
      server.emit('progress', () => sent);
    });
    let sentSoFar = () => 0;
    server.on('progress', (read: () => number) => (sentSoFar = read));
    const router = await routerFor(await listen(server));
    const client = rawClient(router.port);
    client.socket.pause();
    client.write('GET /huge HTTP/1.1\r\nHost: shop.localhost\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 600));
    // The app is held back by the reader's pace, not let loose into the router's memory.
    expect(sentSoFar()).toBeLessThan(size / 2);
    client.socket.resume();
    await until(() => client.size >= size, 20_000);
  });
});
