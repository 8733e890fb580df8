import { createServer, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { listenOnLoopback } from '../helpers/servers.js';
import { Router, type RouterOptions } from '../../src/proxy/index.js';

// Raw-socket tools for the router's hardening tests: an app that records
// exactly what reached it, a router in front of it, and a client that reads
// answers off the wire.

export type Cleanups = Array<() => Promise<void> | void>;

/** One request as the app (Node's own HTTP parser) read it. */
export interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  /** The decoded body's length. */
  size: number;
  /** The head's length on the wire, rebuilt from what the parser read. */
  headBytes: number;
}

/** An app that answers every request with its method, path, host and body size, and records what it got. */
export async function recordingApp(cleanups: Cleanups) {
  const seen: Seen[] = [];
  let rawBytes = 0;
  const parseErrors: string[] = [];
  const server = createServer((req, res) => {
    let size = 0;
    req.on('data', (chunk: Buffer) => (size += chunk.length));
    req.on('end', () => {
      let headBytes = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`.length + 2;
      for (let i = 0; i < req.rawHeaders.length; i += 2) headBytes += Buffer.byteLength(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`, 'latin1');
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, size, headBytes });
      const body = JSON.stringify({ method: req.method, url: req.url, host: req.headers.host, size });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    });
  });
  server.on('connection', (socket: Socket) => socket.on('data', (chunk: Buffer) => (rawBytes += chunk.length)));
  // What Node does by itself, counted.
  server.on('clientError', (error: Error & { code?: string; rawPacket?: Buffer }, socket: Socket) => {
    parseErrors.push(`${error.code}: ${error.message} in ${JSON.stringify(error.rawPacket?.toString('latin1').slice(0, 300))}`);
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  const { port, close } = await listenOnLoopback(server);
  cleanups.push(close);
  return {
    port,
    seen,
    get rawBytes() {
      return rawBytes;
    },
    /** What the app's parser refused, with the bytes it was reading. */
    parseErrors,
  };
}

/** A router with one app, `shop.localhost`, on the given port; what it logs is kept. */
export async function routerFor(cleanups: Cleanups, port: number, options: Partial<RouterOptions> = {}) {
  const logged: string[] = [];
  const router = new Router({ port: 0, hosts: ['127.0.0.1'], log: (line) => logged.push(line), ...options });
  await router.listen();
  cleanups.push(() => router.close());
  router.table.setApp('shop', { hostnames: ['shop.localhost', 'a2.localhost'], upstreams: [{ key: 'shop/web.0', port, state: 'running' }] });
  return { router, logged };
}

export interface Answer {
  status: number;
  head: string;
  body: string;
}

/** Splits what a client received into answers (each framed by its Content-Length, else by the close). */
export function answers(text: string): Answer[] {
  const out: Answer[] = [];
  let rest = text;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end === -1) break;
    const head = rest.slice(0, end);
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? NaN);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    const bodyEnd = length ? end + 4 + Number(length[1]) : rest.length;
    if (bodyEnd > rest.length) break;
    out.push({ status, head, body: rest.slice(end + 4, bodyEnd) });
    rest = rest.slice(bodyEnd);
  }
  return out;
}

/** A raw client connection: write bytes, read what comes back. */
export function rawClient(cleanups: Cleanups, port: number) {
  const socket = connect(port, '127.0.0.1');
  cleanups.push(() => void socket.destroy());
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => undefined);
  socket.on('close', () => (closed = true));
  const text = () => Buffer.concat(chunks).toString('latin1');
  return {
    socket,
    write: (data: string | Buffer) => socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data),
    text,
    answers: () => answers(text()),
    get closed() {
      return closed;
    },
    /** Waits until test() holds or the connection closes; false on timeout. */
    async until(test: () => boolean, timeoutMs = 3000): Promise<boolean> {
      const deadline = Date.now() + timeoutMs;
      while (!test() && !closed) {
        if (Date.now() > deadline) return false;
        await sleep(5);
      }
      return true;
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
