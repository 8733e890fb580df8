import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { connect as h2connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Router } from '../../src/proxy/index.js';
import { Certificates } from '../../src/tls/index.js';
import { Scratch, until } from '../helpers/cli.js';
import { closedPort, listenOnLoopback } from '../helpers/servers.js';
import type { Cleanups } from './wire.js';

// HTTP/2 from the client, HTTP/1.1 to the app: a real router with its TLS
// listener and a CA in a temporary folder, Node's http2 client trusting only
// that root, and an app that says what reached it.

interface Seen {
  method: string;
  url: string;
  httpVersion: string;
  headers: IncomingMessage['headers'];
  size: number;
  sha: string;
}

/** The app: echoes what it got as JSON; /stream and /events answer in pieces; /ws is a WebSocket that echoes. */
async function app(cleanups: Cleanups) {
  const seen: Seen[] = [];
  let release: (() => void) | undefined;
  let sent = 0;
  const server = createServer((req, res) => {
    if (req.url === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write('data: one\n\n');
      // The second event waits for the test to have seen the first.
      release = () => res.write('data: two\n\n');
      return;
    }
    if (req.url === '/big') {
      // Writes until its connection stops taking data, and says how far it got.
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const piece = Buffer.alloc(64 * 1024, 1);
      const more = () => {
        while (sent < LIMIT) {
          sent += piece.length;
          if (!res.write(piece)) return void res.once('drain', more);
        }
        res.end();
      };
      more();
      return;
    }
    if (req.url === '/unread') {
      // Reads nothing of the body: what the client may send is what the connections hold.
      req.pause();
      return;
    }
    if (req.url === '/hop') {
      res.writeHead(200, { 'content-type': 'text/plain', connection: 'x-private', 'x-private': 'hop', 'transfer-encoding': 'chunked', 'set-cookie': ['a=1', 'b=2'] });
      res.end('hop by hop');
      return;
    }
    const hash = createHash('sha256');
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      hash.update(chunk);
    });
    req.on('end', () => {
      const entry = { method: req.method!, url: req.url!, httpVersion: req.httpVersion, headers: req.headers, size, sha: hash.digest('hex') };
      seen.push(entry);
      const body = JSON.stringify(entry);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nX-Seen-Proto: ${req.headers['x-forwarded-proto']}\r\n\r\n`);
    if (head.length > 0) socket.write(head);
    // /ws-crash: the app dies mid-conversation, its connection reset rather than ended.
    if (req.url === '/ws-crash') setTimeout(() => (socket as Socket).resetAndDestroy(), 50);
    else socket.pipe(socket);
  });
  const { port, close } = await listenOnLoopback(server);
  cleanups.push(close);
  return {
    port,
    seen,
    release: () => release?.(),
    /** Bytes /big has written so far. */
    get sent() {
      return sent;
    },
  };
}

/** More than any socket buffers and flow-control windows on the way hold together. */
const LIMIT = 64 * 1024 * 1024;

/** Waits until a counter stops moving for `quietMs`; its value then. */
async function settled(read: () => number, quietMs = 500): Promise<number> {
  let last = -1;
  let since = Date.now();
  for (;;) {
    const now = read();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return now;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Reply {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Sends one request on a session and reads the whole answer. */
function request(session: ClientHttp2Session, headers: Record<string, string>, body?: Buffer | Buffer[]): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    const chunks: Buffer[] = [];
    let head: IncomingHttpHeaders = {};
    stream.on('response', (received) => (head = received));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve({ headers: head, body: Buffer.concat(chunks) }));
    stream.on('error', reject);
    if (Array.isArray(body)) {
      // In pieces, a turn apart, and without a length.
      void (async () => {
        for (const piece of body) {
          stream.write(piece);
          await new Promise((next) => setTimeout(next, 5));
        }
        stream.end();
      })();
    } else if (body) stream.end(body);
  });
}

describe('HTTP/2 through the router', () => {
  const cleanups: Cleanups = [];
  const scratch = new Scratch();
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await scratch.cleanup();
  });

  async function setup(options: { idleTimeoutMs?: number; maxConnections?: number } = {}) {
    const backend = await app(cleanups);
    const certificates = new Certificates({ dir: join(scratch.home(), 'tls') });
    const router = new Router({ port: 0, hosts: ['127.0.0.1'], tls: { port: 0, certificates }, log: () => undefined, ...options });
    await router.listen();
    cleanups.push(() => router.close());
    router.table.setApp('shop', { hostnames: ['shop.localhost'], upstreams: [{ key: 'shop/web.0', port: backend.port, state: 'running' }], status: { state: 'running' } });
    const root = (await certificates.authority()).rootPem;
    const port = router.tlsPort!;
    const open = (name = 'shop.localhost') => {
      const session = h2connect(`https://127.0.0.1:${port}`, { ca: root, servername: name });
      session.on('error', () => undefined);
      cleanups.push(() => void session.destroy());
      return session;
    };
    return { router, backend, port, open, authority: `shop.localhost:${port}` };
  }

  it('a GET over h2 reaches the app over HTTP/1.1, told it came over https', async () => {
    const { open, backend, authority } = await setup();
    const session = open();
    const reply = await request(session, { ':path': '/hello?x=1', ':authority': authority, 'x-custom': 'kept' });
    expect(session.alpnProtocol).toBe('h2');
    expect(reply.headers[':status']).toBe(200);
    const seen = JSON.parse(reply.body.toString()) as Seen;
    expect(seen).toMatchObject({ method: 'GET', url: '/hello?x=1', httpVersion: '1.1', size: 0 });
    expect(seen.headers).toMatchObject({ host: authority, 'x-custom': 'kept', 'x-forwarded-proto': 'https', 'x-forwarded-host': authority, 'x-forwarded-for': '127.0.0.1' });
    expect(seen.headers.forwarded).toBe(`for=127.0.0.1;host="${authority}";proto=https`);
    expect(backend.seen).toHaveLength(1);
  });

  it("the app's connection-specific headers do not reach the client; its cookies stay apart", async () => {
    const { open, authority } = await setup();
    const reply = await request(open(), { ':path': '/hop', ':authority': authority });
    expect(reply.headers[':status']).toBe(200);
    expect(reply.body.toString()).toBe('hop by hop');
    for (const name of ['connection', 'keep-alive', 'transfer-encoding', 'x-private']) expect(reply.headers).not.toHaveProperty(name);
    expect(reply.headers['set-cookie']).toEqual(['a=1', 'b=2']);
  });

  it('a POST body arrives intact, with a length and without one (then chunked to the app)', async () => {
    const { open, authority } = await setup();
    const session = open();
    const body = randomBytes(300_000);
    const sha = createHash('sha256').update(body).digest('hex');
    const sized = JSON.parse((await request(session, { ':method': 'POST', ':path': '/upload', ':authority': authority, 'content-length': String(body.length) }, body)).body.toString()) as Seen;
    expect(sized).toMatchObject({ method: 'POST', size: body.length, sha });
    expect(sized.headers['content-length']).toBe(String(body.length));
    const pieces = [body.subarray(0, 1000), body.subarray(1000, 150_000), body.subarray(150_000)];
    const streamed = JSON.parse((await request(session, { ':method': 'POST', ':path': '/upload', ':authority': authority }, pieces)).body.toString()) as Seen;
    expect(streamed).toMatchObject({ method: 'POST', size: body.length, sha });
    expect(streamed.headers['transfer-encoding']).toBe('chunked');
    expect(streamed.headers).not.toHaveProperty('content-length');
  });

  it('an event stream arrives event by event while the answer is still open', async () => {
    const { open, backend, authority } = await setup();
    const stream: ClientHttp2Stream = open().request({ ':path': '/events', ':authority': authority, accept: 'text/event-stream' });
    let text = '';
    let ended = false;
    let type: unknown;
    stream.on('response', (headers) => (type = headers['content-type']));
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (text += chunk));
    stream.on('end', () => (ended = true));
    await until(() => text === 'data: one\n\n', 10_000, 'the first event');
    expect(type).toBe('text/event-stream');
    backend.release();
    await until(() => text === 'data: one\n\ndata: two\n\n', 10_000, 'the second event');
    expect(ended).toBe(false);
    stream.close();
  });

  it('a request held while the app starts goes on when it is ready', async () => {
    const { router, open, backend, port } = await setup();
    router.table.setApp('late', { hostnames: ['late.localhost'], upstreams: [], status: { state: 'starting' } });
    const pending = request(open(), { ':path': '/late', ':authority': `late.localhost:${port}` });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(backend.seen.some((seen) => seen.url === '/late')).toBe(false);
    router.table.update('late', 'web', { upstreams: [{ key: 'late/web.0', port: backend.port, state: 'running' }], status: { state: 'running' } });
    const reply = await pending;
    expect(reply.headers[':status']).toBe(200);
    expect(JSON.parse(reply.body.toString())).toMatchObject({ url: '/late', headers: { host: `late.localhost:${port}` } });
  });

  it('an unknown :authority gets the 404 page with https links, and the connection goes on', async () => {
    const { open, port, authority } = await setup();
    const session = open();
    const missing = await request(session, { ':path': '/', ':authority': 'elsewhere.localhost', accept: 'text/plain' });
    expect(missing.headers[':status']).toBe(404);
    expect(missing.body.toString()).toContain(`https://shop.localhost:${port}/`);
    expect((await request(session, { ':path': '/after', ':authority': authority })).headers[':status']).toBe(200);
  });

  it('an app whose port is closed: a POST gets 502 saying why; a GET is retried on another process', async () => {
    const { router, open, port, backend } = await setup();
    const dead = await closedPort();
    router.table.setApp('dead', { hostnames: ['dead.localhost'], upstreams: [{ key: 'dead/web.0', port: dead, state: 'running' }], status: { state: 'running' } });
    const session = open();
    const reply = await request(session, { ':method': 'POST', ':path': '/pay', ':authority': `dead.localhost:${port}`, accept: 'text/plain' }, Buffer.from('x'));
    expect(reply.headers[':status']).toBe(502);
    expect(reply.body.toString()).toContain(`ECONNREFUSED from 127.0.0.1:${dead}`);
    // Two processes, one refusing: a GET that met the refusal goes to the other.
    router.table.setApp('half', { hostnames: ['half.localhost'], upstreams: [{ key: 'half/web.0', port: dead, state: 'running' }, { key: 'half/web.1', port: backend.port, state: 'running' }], status: { state: 'running' } });
    for (let i = 0; i < 4; i++) expect((await request(session, { ':path': `/half/${i}`, ':authority': `half.localhost:${port}` })).headers[':status']).toBe(200);
    expect(backend.seen.filter((seen) => seen.url.startsWith('/half/'))).toHaveLength(4);
  });

  it('h2 requests are counted and inspected like HTTP/1.1 ones', async () => {
    const { router, open, authority } = await setup();
    router.traffic.drain();
    const session = open();
    await request(session, { ':path': '/counted?token=abc', ':authority': authority, cookie: 'secret=1' });
    await request(session, { ':method': 'POST', ':path': '/counted', ':authority': authority }, Buffer.from('12345'));
    const sample = router.traffic.drain().find((each) => each.app === 'shop');
    expect(sample).toMatchObject({ requests: 2, bytesIn: 5 });
    expect(sample!.statuses[2]).toBe(2);
    const records = router.requests!.list('shop').filter((record) => record.path.startsWith('/counted'));
    expect(records.map((record) => [record.method, record.status, record.answeredBy])).toEqual([
      ['GET', 200, 'app'],
      ['POST', 200, 'app'],
    ]);
    expect(records[0]!.path).toBe('/counted?token=[redacted]');
    expect(records[0]!.requestHeaders).toContainEqual(['cookie', '[redacted]']);
    expect(records[0]!.requestHeaders).toContainEqual(['host', authority]);
    expect(records[0]!.client).toBe('127.0.0.1');
  });

  it('a WebSocket over RFC 8441 extended CONNECT: 200, then frames both ways; counted as a tunnel to the app', async () => {
    const { router, open, backend, authority } = await setup();
    const session = open();
    await new Promise<void>((resolve) => session.once('remoteSettings', () => resolve()));
    expect(session.remoteSettings.enableConnectProtocol).toBe(true);
    const stream = session.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':path': '/ws', ':authority': authority, 'sec-websocket-version': '13' }, { endStream: false });
    const headers = await new Promise<IncomingHttpHeaders>((resolve, reject) => stream.once('response', resolve).once('error', reject));
    expect(headers[':status']).toBe(200);
    expect(headers['x-seen-proto']).toBe('https');
    expect(headers).not.toHaveProperty('sec-websocket-accept');
    expect(headers).not.toHaveProperty('upgrade');
    expect(router.tunnelsTo(backend.port)).toBe(1);
    let received = Buffer.alloc(0);
    stream.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
    const mask = randomBytes(4);
    const frame = Buffer.concat([Buffer.from([0x81, 0x80 | 5]), mask, Buffer.from([...Buffer.from('hello')].map((byte, i) => byte ^ mask[i % 4]!))]);
    stream.write(frame);
    await until(() => received.length >= frame.length, 10_000, 'the echo');
    expect(received.equals(frame)).toBe(true);
    stream.close();
    await until(() => router.tunnelsTo(backend.port) === 0, 10_000, 'the tunnel closed');
  });

  it('a WebSocket whose app dies (its connection reset): the stream is cancelled, not left open', async () => {
    const { router, open, backend, authority } = await setup();
    const session = open();
    await new Promise<void>((resolve) => session.once('remoteSettings', () => resolve()));
    const stream = session.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':path': '/ws-crash', ':authority': authority, 'sec-websocket-version': '13' }, { endStream: false });
    const headers = await new Promise<IncomingHttpHeaders>((resolve, reject) => stream.once('response', resolve).once('error', reject));
    expect(headers[':status']).toBe(200);
    stream.on('error', () => undefined);
    stream.resume();
    await until(() => stream.closed, 10_000, 'the stream closed after the app reset its connection');
    expect(stream.rstCode).toBe(constants.NGHTTP2_CANCEL);
    await until(() => router.tunnelsTo(backend.port) === 0, 10_000, 'the tunnel closed');
  });

  it('many streams at once on one connection, each answered with its own', async () => {
    const { router, open, authority } = await setup();
    const session = open();
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => request(session, { ':path': `/many/${i}`, ':authority': authority })));
    expect(replies.map((reply) => (JSON.parse(reply.body.toString()) as Seen).url)).toEqual(Array.from({ length: 200 }, (_, i) => `/many/${i}`));
    expect(router.connections.size).toBe(1);
  });

  it('closing the router tells an open connection GOAWAY', async () => {
    const { router, open, authority } = await setup();
    const session = open();
    await request(session, { ':path': '/', ':authority': authority });
    const goaway = new Promise<number>((resolve) => session.once('goaway', (code: number) => resolve(code)));
    await router.close();
    expect(await goaway).toBe(0);
  });

  it('an answer the client does not read stops the app (flow control reaches its socket), and flows again when read', async () => {
    const { open, backend, authority } = await setup();
    const stream = open().request({ ':path': '/big', ':authority': authority });
    stream.pause();
    const stalled = await settled(() => backend.sent);
    expect(stalled).toBeLessThan(LIMIT);
    let received = 0;
    stream.on('data', (chunk: Buffer) => (received += chunk.length));
    stream.resume();
    await until(() => received === LIMIT, 30_000, 'the whole answer');
  });

  it('a body the app does not read stops the client (its stream window stays shut)', async () => {
    const { open, authority } = await setup();
    const stream = open().request({ ':method': 'POST', ':path': '/unread', ':authority': authority }, { endStream: false });
    stream.on('error', () => undefined);
    let written = 0;
    const piece = Buffer.alloc(64 * 1024, 2);
    const pump = () => {
      while (written < LIMIT) {
        written += piece.length;
        if (!stream.write(piece)) return void stream.once('drain', pump);
      }
    };
    pump();
    expect(await settled(() => written)).toBeLessThan(LIMIT);
    stream.close();
  });

  it('a connection with no stream open is closed after the idle timeout', async () => {
    const { open, authority } = await setup({ idleTimeoutMs: 300 });
    const session = open();
    await request(session, { ':path': '/', ':authority': authority });
    await until(() => session.closed || session.destroyed, 10_000, 'the idle connection closed');
  });

  it('counts as one connection against the cap: idle, it is shed for a newcomer', async () => {
    const { router, open, authority } = await setup({ maxConnections: 1 });
    const first = open();
    await request(first, { ':path': '/', ':authority': authority });
    expect(router.connections.size).toBe(1);
    const second = open();
    expect((await request(second, { ':path': '/', ':authority': authority })).headers[':status']).toBe(200);
    await until(() => first.closed || first.destroyed, 10_000, 'the idle connection shed');
    expect(router.connections.size).toBe(1);
  });

  it('a body that stops arriving before any answer gets 408 after the idle timeout', async () => {
    const { open, authority } = await setup({ idleTimeoutMs: 400 });
    const stream = open().request({ ':method': 'POST', ':path': '/upload', ':authority': authority }, { endStream: false });
    stream.on('error', () => undefined);
    const status = new Promise<unknown>((resolve) => stream.once('response', (headers) => resolve(headers[':status'])));
    stream.write('the start of a body that never ends');
    expect(await status).toBe(408);
  });

  it('a held stream the client cancels leaves the hold: it never reaches the app, and is recorded unanswered', async () => {
    const { router, open, backend, port } = await setup();
    router.table.setApp('later', { hostnames: ['later.localhost'], upstreams: [], status: { state: 'starting' } });
    const stream = open().request({ ':path': '/cancelled', ':authority': `later.localhost:${port}` });
    stream.on('error', () => undefined);
    await until(() => router.requests!.list('later').length === 0 && stream.id !== undefined, 5000, 'the stream sent');
    await new Promise((resolve) => setTimeout(resolve, 200));
    stream.close();
    await until(() => router.requests!.list('later').length === 1, 5000, 'the cancelled request recorded');
    expect(router.requests!.list('later')[0]).toMatchObject({ path: '/cancelled', status: null, answeredBy: 'none' });
    router.table.update('later', 'web', { upstreams: [{ key: 'later/web.0', port: backend.port, state: 'running' }], status: { state: 'running' } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(backend.seen.some((seen) => seen.url === '/cancelled')).toBe(false);
  });
});
