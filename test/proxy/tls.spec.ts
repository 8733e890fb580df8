import { execFile } from 'node:child_process';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform } from '../../src/engine/index.js';
import { loadManifest } from '../../src/manifest/index.js';
import { Router } from '../../src/proxy/index.js';
import { findBinary } from '../../src/services/binaries.js';
import { Certificates } from '../../src/tls/index.js';
import { getByHost, Scratch, until } from '../helpers/cli.js';
import { recordingApp, type Cleanups } from './wire.js';

// https:// through the router: a real platform with a real app behind it, a
// client that trusts only the platform's root (curl --cacert, or Node's tls
// with `ca`), and the router's TLS listener on port 0 in a temporary home.

const haveCurl = findBinary(['curl']) !== undefined;

/** The app: its view of the request as JSON, an event stream, and a WebSocket that echoes. */
const SERVER = `
const { createServer } = require('node:http');
const { createHash } = require('node:crypto');
const server = createServer((req, res) => {
  if (req.url === '/events') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    res.write('data: one\\n\\n');
    const later = setTimeout(() => res.write('data: two\\n\\n'), 50);
    req.on('close', () => clearTimeout(later));
    return;
  }
  const body = JSON.stringify({ proto: req.headers['x-forwarded-proto'], forwarded: req.headers.forwarded, host: req.headers.host });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
});
server.on('upgrade', (req, socket, head) => {
  const accept = createHash('sha1').update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  socket.write('HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Accept: ' + accept + '\\r\\nX-Seen-Proto: ' + req.headers['x-forwarded-proto'] + '\\r\\n\\r\\n');
  if (head.length > 0) socket.write(head);
  socket.pipe(socket);
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

const MANIFEST = `
application:
  name: secure
instances:
  web:
    command: node server.cjs
    hostnames: [secure.example.com]
`;

/** A TLS handshake with the router as `name`, trusting only the root: the certificate the router showed, or why it failed. */
function handshake(port: number, name: string, ca: string, alpn = ['http/1.1']): Promise<{ serial: string; alpn: string | false } | { error: string }> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', servername: name, ca, ALPNProtocols: alpn }, () => {
      resolve({ serial: socket.getPeerCertificate().serialNumber, alpn: socket.alpnProtocol ?? false });
      socket.destroy();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve({ error: `${error.code ?? ''} ${error.message}` }));
  });
}

/** GET https://name:port/path, trusting only the root. */
function get(port: number, name: string, path: string, ca: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, servername: name, path, headers: { host: `${name}:${port}` }, ca, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('https through a real platform', () => {
  const scratch = new Scratch();
  let platform: Platform;
  let home: string;
  let ca: string;
  let port: number;

  beforeAll(async () => {
    home = scratch.home();
    const dir = scratch.project({ 'paasmaker.yml': MANIFEST, 'server.cjs': SERVER });
    platform = await Platform.open({ home, proxy: { port: 0, hosts: ['127.0.0.1'], tls: { port: 0 } } });
    await platform.apply(loadManifest(dir));
    port = platform.tlsPort!;
    // The root is made beside the app's start, on the platform's first start.
    await until(() => existsSync(join(home, 'tls', 'root.pem')), 20_000, 'root.pem');
    ca = readFileSync(join(home, 'tls', 'root.pem'), 'utf8');
  }, 60_000);
  afterAll(async () => {
    await platform?.close();
    await scratch.cleanup();
  });

  it('listens on a port of its own, beside the plain one', () => {
    expect(port).toBeGreaterThan(0);
    expect(port).not.toBe(platform.routerPort);
  });

  it.skipIf(!haveCurl)('curl --cacert root.pem https://APP.localhost:PORT/ answers, and the app is told the request came over https', async () => {
    const { stdout } = await promisify(execFile)('curl', ['-sS', '--fail', '--cacert', join(home, 'tls', 'root.pem'), '--resolve', `secure.localhost:${port}:127.0.0.1`, `https://secure.localhost:${port}/`]);
    const seen = JSON.parse(stdout) as { proto: string; forwarded: string; host: string };
    expect(seen.proto).toBe('https');
    expect(seen.forwarded).toMatch(/;proto=https$/);
    expect(seen.host).toBe(`secure.localhost:${port}`);
    // The plain listener still says http.
    expect(JSON.parse(await getByHost(platform.routerPort!, 'secure.localhost'))).toMatchObject({ proto: 'http', forwarded: expect.stringMatching(/;proto=http$/) });
  });

  it('the request is counted and inspected like a plain one', async () => {
    const counted: string[] = [];
    const tick = (event: { samples: Array<{ app: string }> }) => counted.push(...event.samples.map((sample) => sample.app));
    platform.on('traffic.tick', tick);
    const answer = await get(port, 'secure.localhost', '/inspected', ca);
    expect(answer.status).toBe(200);
    await until(() => platform.recentRequests('secure')?.some((record) => record.path === '/inspected' && record.status === 200), 5000, 'the request in the inspector');
    await until(() => counted.includes('secure'), 5000, 'the request in the traffic counts');
    platform.off('traffic.tick', tick);
  });

  it('a name the router does not route gets no certificate: the handshake fails', async () => {
    const unknown = await handshake(port, 'nothing-here.localhost', ca);
    expect(unknown).toHaveProperty('error');
    expect(existsSync(join(home, 'tls', 'leaves', 'nothing-here.localhost.pem'))).toBe(false);
    // Nor does a client that names no host at all (an IP address).
    expect(await handshake(port, '', ca)).toHaveProperty('error');
  });

  it('a routed manifest hostname outside the local zones gets no certificate, and the platform says why once', async () => {
    const outside = await handshake(port, 'secure.example.com', ca);
    expect(outside).toHaveProperty('error');
    await handshake(port, 'secure.example.com', ca);
    const said = platform.warnings.list().filter((warning) => warning.text.includes('no certificate for secure.example.com'));
    expect(said).toHaveLength(1);
    expect(said[0]!.text).toContain('outside the zones the local CA may sign for');
  });

  it('the certificate for a name is signed once and shown again at the next handshake; it is kept on disk, 0600, like the root key', async () => {
    const first = await handshake(port, 'secure.localhost', ca);
    const second = await handshake(port, 'secure.localhost', ca);
    expect(first).toHaveProperty('serial');
    expect(second).toEqual(first);
    const file = join(home, 'tls', 'leaves', 'secure.localhost.pem');
    expect(new X509Certificate(readFileSync(file)).serialNumber).toBe((first as { serial: string }).serial);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'tls', 'root-key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'tls')).mode & 0o777).toBe(0o700);
  });

  it('ALPN: a client offering h2 gets h2; one offering only http/1.1 gets http/1.1', async () => {
    expect(await handshake(port, 'secure.localhost', ca, ['h2', 'http/1.1'])).toMatchObject({ alpn: 'h2' });
    expect(await handshake(port, 'secure.localhost', ca, ['http/1.1'])).toMatchObject({ alpn: 'http/1.1' });
  });

  it('a WebSocket upgrade over TLS: 101, then bytes both ways', async () => {
    const socket: TLSSocket = connect({ port, host: '127.0.0.1', servername: 'secure.localhost', ca });
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    const key = randomBytes(16).toString('base64');
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
    socket.write(`GET /socket HTTP/1.1\r\nHost: secure.localhost:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await until(() => received.includes('\r\n\r\n'), 10_000, 'the 101');
    const head = received.subarray(0, received.indexOf('\r\n\r\n') + 4).toString('latin1');
    expect(head).toMatch(/^HTTP\/1\.1 101 /);
    expect(head).toContain(`Sec-WebSocket-Accept: ${createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64')}`);
    expect(head).toContain('X-Seen-Proto: https');
    // A masked text frame "hello" goes to the app and comes back as it went.
    const mask = randomBytes(4);
    const frame = Buffer.concat([Buffer.from([0x81, 0x80 | 5]), mask, Buffer.from([...Buffer.from('hello')].map((byte, i) => byte ^ mask[i % 4]!))]);
    received = Buffer.alloc(0);
    socket.write(frame);
    await until(() => received.length >= frame.length, 10_000, 'the echo');
    expect(received.equals(frame)).toBe(true);
    socket.destroy();
  });

  it('an event stream over TLS: events arrive while the answer is still open', async () => {
    const events: string[] = [];
    let ended = false;
    const req = httpsRequest({ host: '127.0.0.1', port, servername: 'secure.localhost', path: '/events', headers: { host: 'secure.localhost', accept: 'text/event-stream' }, ca, agent: false }, (res) => {
      expect(res.headers['content-type']).toBe('text/event-stream');
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => events.push(...chunk.split('\n\n').filter(Boolean)));
      res.on('end', () => (ended = true));
    });
    req.end();
    await until(() => events.length >= 2, 10_000, 'two events');
    expect(events.slice(0, 2)).toEqual(['data: one', 'data: two']);
    expect(ended).toBe(false);
    req.destroy();
  });
});

describe('the router with TLS', () => {
  const cleanups: Cleanups = [];
  const scratch = new Scratch();
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await scratch.cleanup();
  });

  async function tlsRouter(options: { leafValidityMs?: number; renewWithinMs?: number } = {}) {
    const app = await recordingApp(cleanups);
    const dir = join(scratch.home(), 'tls');
    const certificates = new Certificates({ dir, ...options });
    const router = new Router({ port: 0, hosts: ['127.0.0.1'], tls: { port: 0, certificates }, log: () => undefined });
    await router.listen();
    cleanups.push(() => router.close());
    router.table.setApp('shop', { hostnames: ['shop.localhost', '*.shop.localhost'], upstreams: [{ key: 'shop/web.0', port: app.port, state: 'running' }], status: { state: 'running' } });
    const root = (await certificates.authority()).rootPem;
    return { router, app, root, port: router.tlsPort! };
  }

  it('handshakes that arrive together for a new name get one certificate between them', async () => {
    const { port, root } = await tlsRouter();
    const shown = await Promise.all(Array.from({ length: 6 }, () => handshake(port, 'shop.localhost', root)));
    expect(new Set(shown.map((each) => ('serial' in each ? each.serial : each.error))).size).toBe(1);
    expect(shown[0]).toHaveProperty('serial');
  });

  it('a certificate near its end is replaced at the next handshake', async () => {
    // An hour's validity, replaced within two hours of its end: each one is near its end already.
    const { port, root } = await tlsRouter({ leafValidityMs: 3_600_000, renewWithinMs: 7_200_000 });
    const first = await handshake(port, 'shop.localhost', root);
    const second = await handshake(port, 'shop.localhost', root);
    expect(first).toHaveProperty('serial');
    expect(second).toHaveProperty('serial');
    expect(second).not.toEqual(first);
  });

  it('a name under a wildcard route gets a certificate for itself; the app sees https', async () => {
    const { port, root, app } = await tlsRouter();
    const answer = await get(port, 'a.shop.localhost', '/wild', root);
    expect(answer.status).toBe(200);
    expect(app.seen.at(-1)).toMatchObject({ url: '/wild', headers: { 'x-forwarded-proto': 'https', host: `a.shop.localhost:${port}` } });
    // Two labels down is not under *.shop.localhost: no certificate.
    expect(await handshake(port, 'a.b.shop.localhost', root)).toHaveProperty('error');
  });

  it('over TLS, an unknown Host gets the 404 page with https links', async () => {
    const { port, root } = await tlsRouter();
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port, servername: 'shop.localhost', path: '/', headers: { host: 'elsewhere.localhost', accept: 'text/plain' }, ca: root, agent: false }, (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(answer.status).toBe(404);
    expect(answer.body).toContain(`https://shop.localhost:${port}/`);
  });
});
