import { randomBytes } from 'node:crypto';
import { constants, performServerHandshake, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { ConnectionDeadlines, Dispatcher, ExchangeConnection } from './client-connection.js';
import { Exchange } from './client-connection.js';
import type { ConnectionLimit, Sheddable } from './connection-limit.js';
import { upstreamRequestHead } from './headers.js';
import { ChunkedScanner, headEnd, HttpParseError, MAX_HEAD, parseResponseHead, tokens, type Header, type RequestHead, type ResponseHead } from './http1.js';
import { plainPage, type Page } from './pages.js';
import type { UpstreamLink, UpstreamOwner } from './upstream-pool.js';

const { NGHTTP2_NO_ERROR, NGHTTP2_INTERNAL_ERROR, NGHTTP2_CANCEL } = constants;

/** Streams open at once on one connection: what browsers and nginx use. */
export const MAX_CONCURRENT_STREAMS = 128;

/**
 * What the router offers in its SETTINGS: RFC 8441's extended CONNECT (a
 * WebSocket over a stream), a cap on concurrent streams, heads no larger
 * than HTTP/1.1 ones may be.
 */
const SETTINGS = { enableConnectProtocol: true, maxConcurrentStreams: MAX_CONCURRENT_STREAMS, maxHeaderListSize: MAX_HEAD };

/** Connection-specific headers HTTP/2 forbids (RFC 9113 §8.2.2), and the hop-by-hop ones never passed on. */
const NOT_PASSED_ON = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings', 'te', 'trailer', 'proxy-authenticate']);
/** Headers Node's HTTP/2 takes once only: a repeat from the app is dropped instead of joined. */
const SINGLE_VALUE = new Set(['access-control-allow-credentials', 'access-control-max-age', 'access-control-request-method', 'age', 'authorization', 'content-encoding', 'content-language', 'content-length', 'content-location', 'content-md5', 'content-range', 'content-type', 'date', 'dnt', 'etag', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'range', 'referer', 'retry-after', 'tk', 'upgrade-insecure-requests', 'user-agent', 'x-content-type-options']);
// As an HTTP/1.1 request line and head would be refused (see http1.ts).
const BAD_TARGET = /[^\x21-\x7e]/;
const BAD_VALUE = /[\0-\x08\x0a-\x1f\x7f]/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * One HTTP/2 connection from a browser (ALPN h2 on the TLS listener). Each
 * stream is one exchange, routed like an HTTP/1.1 request; it counts as one
 * connection against the router's cap, idle while no stream is open.
 */
export class H2Session implements Sheddable {
  readonly session: ServerHttp2Session;
  readonly address: string;
  private streams = 0;

  constructor(
    readonly socket: TLSSocket,
    private readonly router: Dispatcher,
    private readonly limit: ConnectionLimit<Sheddable>,
    private readonly deadlines: ConnectionDeadlines,
    closed: (session: H2Session) => void,
  ) {
    this.address = socket.remoteAddress ?? 'unknown';
    socket.setNoDelay(true);
    const session = performServerHandshake(socket, { settings: SETTINGS });
    this.session = session;
    limit.add(this);
    session.on('stream', (stream, headers) => {
      try {
        this.onStream(stream, headers);
      } catch (error) {
        this.router.bug(error);
        stream.close(NGHTTP2_INTERNAL_ERROR);
      }
    });
    session.on('error', () => session.destroy());
    // Idle like an HTTP/1.1 connection between requests; a quiet stream (an event stream) is never cut off.
    session.setTimeout(deadlines.idleMs, () => {
      if (this.streams === 0) session.close();
    });
    session.once('close', () => {
      limit.remove(this);
      closed(this);
      socket.destroy();
    });
  }

  /** Closed to make room for a newer connection (the router is at its cap). */
  shed(): void {
    this.session.destroy();
  }

  /** Frames still on their way out (the session's own queue: nghttp2 owns the socket's writes). */
  get flushing(): boolean {
    return (this.session.state.outboundQueueSize ?? 0) > 0 || this.socket.writableLength > 0;
  }

  /** The router is closing: GOAWAY, so the client knows no stream was cut by accident. */
  goAway(): void {
    if (!this.session.closed && !this.session.destroyed) this.session.goaway(NGHTTP2_NO_ERROR);
  }

  private onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on('error', () => undefined);
    if (this.streams++ === 0) this.limit.markBusy(this);
    stream.once('close', () => {
      if (--this.streams === 0) this.limit.markIdle(this);
    });
    let request: { head: RequestHead; websocket: boolean };
    try {
      request = requestHead(headers, stream.endAfterHeaders);
    } catch (error) {
      const problem = error instanceof HttpParseError ? error : new HttpParseError(400, String(error));
      const page = plainPage(problem.status, `${problem.status} ${problem.message}`);
      stream.respond({ ':status': page.status, ...page.headers, 'content-length': Buffer.byteLength(page.body) });
      stream.end(page.body);
      stream.resume();
      return;
    }
    const exchange = new H2Stream(stream, request.head, request.websocket, this.address, this.router, this.deadlines).exchange;
    if (request.head.method === 'CONNECT' && !request.websocket) {
      exchange.connection.answer(plainPage(405, 'This router serves apps by hostname; it is not a forward proxy.'));
      return;
    }
    this.router.route(exchange);
  }
}

/**
 * The HTTP/1.1 request head an HTTP/2 request stands for: the pseudo-headers
 * as the request line and Host (:authority, else the Host header), the
 * fields as they came; a body without a length goes to the app chunked.
 * An extended CONNECT for a WebSocket (RFC 8441) becomes a GET with an
 * Upgrade, and a key of the router's own.
 */
export function requestHead(headers: IncomingHttpHeaders, ended: boolean): { head: RequestHead; websocket: boolean } {
  const method = headers[':method'] ?? '';
  const path = headers[':path'];
  const authority = headers[':authority'];
  const websocket = method === 'CONNECT' && headers[':protocol'] === 'websocket';
  if (!TOKEN.test(method)) throw new HttpParseError(400, `bad :method ${JSON.stringify(method.slice(0, 20))}`);
  if (authority !== undefined && (authority === '' || BAD_TARGET.test(authority) || authority.includes('@'))) throw new HttpParseError(400, `bad :authority ${JSON.stringify(authority.slice(0, 60))}`);
  if (method === 'CONNECT' && !websocket) return { head: { method, target: '', path: '', version: '1.1', headers: [], host: authority, contentLength: 0, chunked: false, upgrade: false, keepAlive: true, raw: `CONNECT ${authority ?? ''} HTTP/2` }, websocket };
  if (path === undefined || path === '' || BAD_TARGET.test(path) || (path.charCodeAt(0) !== 0x2f && !(path === '*' && method === 'OPTIONS'))) throw new HttpParseError(400, `bad :path ${JSON.stringify(String(path).slice(0, 60))}`);
  const host = authority ?? (headers.host as string | undefined);
  const fields: Header[] = [];
  if (host !== undefined) fields.push(['host', host]);
  let contentLength: number | undefined;
  for (const name in headers) {
    if (name.charCodeAt(0) === 0x3a || name === 'host') continue;
    const value = headers[name];
    if (value === undefined) continue;
    if (typeof value === 'string') {
      if (BAD_VALUE.test(value)) throw new HttpParseError(400, 'bad character in a header value');
      fields.push([name, value]);
    } else {
      for (const each of value) {
        if (BAD_VALUE.test(each)) throw new HttpParseError(400, 'bad character in a header value');
        fields.push([name, each]);
      }
    }
    if (name === 'content-length') {
      if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) throw new HttpParseError(400, `bad Content-Length: ${JSON.stringify(String(value))}`);
      contentLength = Number(value);
    }
  }
  let chunked = false;
  if (websocket) {
    fields.push(['connection', 'Upgrade'], ['upgrade', 'websocket'], ['sec-websocket-key', randomBytes(16).toString('base64')]);
    contentLength = 0;
  } else if (ended) {
    contentLength ??= 0;
  } else if (contentLength === undefined) {
    chunked = true;
    fields.push(['transfer-encoding', 'chunked']);
  }
  let raw = `${method} ${path} HTTP/2`;
  for (const [name, value] of fields) raw += `\r\n${name}: ${value}`;
  return {
    head: { method: websocket ? 'GET' : method, target: path, path, version: '1.1', headers: fields, host, contentLength: contentLength ?? 0, chunked, upgrade: websocket, keepAlive: true, raw },
    websocket,
  };
}

/** The app's response head as HTTP/2 headers: without connection-specific ones, repeats joined (Set-Cookie kept apart). */
export function responseHeaders(response: ResponseHead, status = response.status): OutgoingHttpHeaders {
  const named = tokens(response.headers, 'connection');
  const out: OutgoingHttpHeaders = { ':status': status };
  for (const [name, value] of response.headers) {
    const lower = name.toLowerCase();
    if (NOT_PASSED_ON.has(lower) || (named.length > 0 && named.includes(lower))) continue;
    if (lower === 'content-length' && response.chunked) continue;
    const had = out[lower];
    if (had === undefined) out[lower] = lower === 'set-cookie' ? [value] : value;
    else if (lower === 'set-cookie') (had as string[]).push(value);
    else if (!SINGLE_VALUE.has(lower)) out[lower] = `${had as string}, ${value}`;
  }
  return out;
}

/**
 * One HTTP/2 stream: one exchange, its request sent to the app over a
 * pooled HTTP/1.1 connection (the router's own pool, as ClientConnection
 * uses), the answer's head turned into HTTP/2 headers and its body passed
 * on as it comes, with flow control both ways: a stream the client reads
 * slowly pauses the app's connection, an app that reads slowly leaves the
 * client's data unread (so its window closes).
 */
export class H2Stream implements ExchangeConnection, UpstreamOwner {
  readonly exchange: Exchange;
  readonly secure = true;
  private link: UpstreamLink | undefined;
  private response: ResponseHead | undefined;
  private responsePending: Buffer | undefined;
  /** What is left of a response body with a length; chunked ones are decoded, others run until the app closes. */
  private remaining = 0;
  private decoder: ChunkedScanner | undefined;
  private untilClose = false;
  /** The client's body has all gone on (or there is none). */
  private requestDone: boolean;
  private reading = false;
  private finished = false;

  constructor(
    private readonly stream: ServerHttp2Stream,
    head: RequestHead,
    private readonly websocket: boolean,
    readonly address: string,
    private readonly router: Dispatcher,
    private readonly deadlines: ConnectionDeadlines,
  ) {
    this.exchange = new Exchange(head, this);
    this.requestDone = head.contentLength === 0 && !head.chunked;
    stream.on('drain', () => this.link?.socket.resume());
    if (!this.requestDone) {
      // A body the client stopped sending to the app before any answer gets 408, as over HTTP/1.1
      // (only while the router is reading: a stream it paused because the app reads slowly has not stalled).
      stream.setTimeout(deadlines.idleMs, () => {
        if (this.link && !this.response && !this.requestDone && !this.stream.isPaused()) this.run(() => this.bodyTimedOut());
      });
    }
    stream.once('close', () => {
      try {
        this.onClose();
      } catch (error) {
        this.router.bug(error);
      }
    });
  }

  get open(): boolean {
    return !this.stream.destroyed && !this.stream.closed;
  }

  run(step: () => void): void {
    try {
      step();
    } catch (error) {
      this.crashed(error);
    }
  }

  // ---- the request, to the app ----

  forward(port: number, fresh = false): void {
    const exchange = this.exchange;
    const link = this.router.connect(port, this, fresh, !exchange.retryable);
    this.link = link;
    this.response = undefined;
    this.responsePending = undefined;
    link.socket.write(upstreamRequestHead(exchange.head, this.address, 'https'), 'latin1');
    if (!this.requestDone && !this.reading) {
      this.reading = true;
      const chunked = exchange.head.chunked;
      this.stream.on('data', (chunk: Buffer) => this.run(() => this.requestData(chunk, chunked)));
      this.stream.once('end', () =>
        this.run(() => {
          if (chunked) this.link?.socket.write('0\r\n\r\n', 'latin1');
          this.requestDone = true;
        }),
      );
    } else if (this.reading) this.stream.resume();
  }

  private requestData(chunk: Buffer, chunked: boolean): void {
    const link = this.link;
    // Answered already (a page, or the app before the body ended): the rest is read and dropped.
    if (!link || this.finished) return;
    this.exchange.bytesIn += chunk.length;
    let room: boolean;
    if (chunked) {
      link.socket.cork();
      link.socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      link.socket.write(chunk);
      room = link.socket.write('\r\n', 'latin1');
      link.socket.uncork();
    } else room = link.socket.write(chunk);
    if (!room) this.stream.pause();
  }

  private bodyTimedOut(): void {
    this.dropLink();
    this.answer(plainPage(408, `408 the request body stopped arriving for ${this.deadlines.idleMs / 1000} s`));
  }

  upstreamDrain(link: UpstreamLink): void {
    if (link === this.link && this.reading && !this.finished) this.stream.resume();
  }

  // ---- the answer, to the client ----

  upstreamData(link: UpstreamLink, chunk: Buffer): void {
    try {
      this.responseData(link, chunk);
    } catch (error) {
      this.crashed(error);
    }
  }

  private responseData(link: UpstreamLink, chunk: Buffer): void {
    if (link !== this.link || this.finished) {
      link.socket.destroy();
      return;
    }
    if (this.response) {
      this.responseBody(chunk, 0);
      return;
    }
    const buffer = this.responsePending ? Buffer.concat([this.responsePending, chunk]) : chunk;
    const end = headEnd(buffer);
    if (end === -1) {
      if (buffer.length > MAX_HEAD) this.badGateway('response head too large');
      else this.responsePending = buffer;
      return;
    }
    this.responsePending = undefined;
    let response: ResponseHead;
    try {
      response = parseResponseHead(buffer, end);
    } catch (error) {
      this.badGateway(`malformed response: ${(error as Error).message}`);
      return;
    }
    const exchange = this.exchange;
    if (response.status < 200) {
      if (response.status === 101) {
        if (this.websocket) this.switchProtocols(response, buffer.subarray(end));
        else this.badGateway('switched protocols without being asked');
        return;
      }
      // 100 Continue, 103 Early Hints: passed on as informational headers, then the real answer.
      if (!this.stream.headersSent) {
        try {
          this.stream.additionalHeaders(responseHeaders(response));
        } catch {
          // One HTTP/2 cannot carry is dropped: it is only a hint.
        }
      }
      if (end < buffer.length) this.responseData(link, buffer.subarray(end));
      return;
    }
    // (Node ends a 205's stream with its headers, as it must: no body either.)
    const bodiless = exchange.head.method === 'HEAD' || response.status === 204 || response.status === 205 || response.status === 304;
    let headers: OutgoingHttpHeaders;
    try {
      headers = responseHeaders(response);
    } catch (error) {
      this.badGateway(`an answer HTTP/2 cannot carry: ${(error as Error).message}`);
      return;
    }
    this.response = response;
    exchange.status = response.status;
    exchange.response = response;
    if (bodiless) this.remaining = 0;
    else if (response.chunked) this.decoder = new ChunkedScanner();
    else if (response.contentLength !== undefined) this.remaining = response.contentLength;
    else this.untilClose = true;
    const empty = !this.decoder && !this.untilClose && this.remaining === 0;
    try {
      this.stream.respond(headers, { endStream: empty });
    } catch (error) {
      // Node refuses a header value HTTP/2 cannot carry: nothing was sent yet.
      this.response = undefined;
      exchange.response = undefined;
      this.badGateway(`an answer HTTP/2 cannot carry: ${(error as Error).message}`);
      return;
    }
    if (empty) {
      this.complete(end === buffer.length);
      return;
    }
    if (end < buffer.length) this.responseBody(buffer, end);
  }

  /**
   * Passes on the body in chunk from offset. Each piece is written as it
   * comes, one behind: the last goes with the end of the stream, so a small
   * answer is one DATA frame that ends it.
   */
  private responseBody(chunk: Buffer, offset: number): void {
    if (this.decoder) {
      let held: Buffer | undefined;
      let end: number;
      try {
        end = this.decoder.scan(chunk, offset, (piece) => {
          if (held) this.send(held);
          held = piece;
        });
      } catch (error) {
        if (!(error instanceof HttpParseError)) throw error;
        // The app's framing broke mid-answer: the stream is reset, as an HTTP/1.1 client's connection would be closed.
        this.exchange.detail = `malformed chunked response: ${error.message}`;
        this.fail();
        return;
      }
      if (end === -1) {
        if (held) this.send(held);
        return;
      }
      this.finish(held);
      this.complete(end === chunk.length);
      return;
    }
    if (this.untilClose) {
      this.send(offset === 0 ? chunk : chunk.subarray(offset));
      return;
    }
    const take = Math.min(this.remaining, chunk.length - offset);
    const piece = take === 0 ? undefined : offset === 0 && take === chunk.length ? chunk : chunk.subarray(offset, offset + take);
    this.remaining -= take;
    if (this.remaining > 0) {
      if (piece) this.send(piece);
      return;
    }
    this.finish(piece);
    // More than the response said it was: the app's connection cannot be trusted again.
    this.complete(offset + take === chunk.length);
  }

  private send(piece: Buffer): void {
    this.exchange.bytesOut += piece.length;
    if (!this.stream.write(piece)) this.link?.socket.pause();
  }

  /** The last piece of the body, if any, and the end of the stream. */
  private finish(piece: Buffer | undefined): void {
    if (!piece) {
      this.stream.end();
      return;
    }
    this.exchange.bytesOut += piece.length;
    this.stream.end(piece);
  }

  upstreamClosed(link: UpstreamLink, error: NodeJS.ErrnoException | undefined): void {
    this.run(() => this.upstreamGone(link, error));
  }

  private upstreamGone(link: UpstreamLink, error: NodeJS.ErrnoException | undefined): void {
    if (link !== this.link || this.finished) return;
    this.link = undefined;
    const exchange = this.exchange;
    if (this.response) {
      // A body delimited by the close is complete; any other is cut short.
      if (this.untilClose) {
        this.stream.end();
        this.done();
      } else this.fail();
      return;
    }
    const nothingBack = this.responsePending === undefined;
    if (nothingBack && exchange.retryable && link.reused) {
      // A kept-alive connection the app closed as the request went out: the request never arrived.
      this.forward(link.port, true);
      return;
    }
    exchange.failure = { error, connected: link.connected, nothingBack };
    this.router.route(exchange);
  }

  answer(page: Page): void {
    const exchange = this.exchange;
    if (this.finished || this.response || !this.open || this.stream.headersSent) {
      this.fail();
      return;
    }
    this.dropLink();
    const body = exchange.head.method === 'HEAD' ? '' : page.body;
    exchange.status = page.status;
    exchange.page = page;
    exchange.bytesOut += Buffer.byteLength(body);
    this.stream.respond({ ':status': page.status, ...page.headers, 'content-length': Buffer.byteLength(page.body) }, { endStream: body === '' });
    if (body !== '') this.stream.end(body);
    this.done();
  }

  private badGateway(detail: string): void {
    this.dropLink();
    this.exchange.failure = { error: undefined, connected: true, nothingBack: false, detail };
    this.router.route(this.exchange);
  }

  /** The response is complete: the app's connection back to the pool if it can serve again. */
  private complete(reusable: boolean): void {
    const link = this.link;
    this.link = undefined;
    if (link) {
      link.owner = undefined;
      // An upgrade the app declined leaves its parser expecting the new protocol: that connection is not used again.
      if (reusable && this.requestDone && !this.response!.close && !this.exchange.head.upgrade) this.router.reuse(link, this.response!.keepAliveSeconds);
      else link.socket.destroy();
    }
    this.done();
  }

  private done(): void {
    if (this.finished) return;
    this.finished = true;
    // A request body the answer did not wait for is read and dropped, so the stream can end.
    if (!this.requestDone) this.stream.resume();
    this.router.finished(this.exchange);
  }

  /** RFC 8441: the app switched to WebSocket; the client gets 200, then the stream and the app's connection are one tunnel. */
  private switchProtocols(response: ResponseHead, rest: Buffer): void {
    const exchange = this.exchange;
    const link = this.link!;
    exchange.status = 101;
    exchange.response = response;
    const headers = responseHeaders(response, 200);
    delete headers['sec-websocket-accept'];
    // Should respond throw, the link is still this stream's: the 500 (or reset) drops it.
    this.stream.respond(headers);
    this.link = undefined;
    this.finished = true;
    this.router.finished(exchange);
    const upstream = this.router.tunnel(link);
    const stream = this.stream;
    if (rest.length > 0) stream.write(rest);
    upstream.pipe(stream);
    stream.pipe(upstream);
    let broken = false;
    upstream.on('error', () => (broken = true));
    upstream.once('close', () => {
      if (stream.destroyed) return;
      // An app that ended its side cleanly: the stream ends once what it sent is out. One that
      // crashed or reset the connection (no 'end', so pipe never ends the stream) cancels it.
      if (stream.writableFinished) stream.close(NGHTTP2_NO_ERROR);
      else if (broken || !stream.writableEnded) stream.close(NGHTTP2_CANCEL);
      else stream.once('finish', () => stream.close(NGHTTP2_NO_ERROR));
    });
    stream.once('close', () => upstream.destroy());
  }

  /** A bug met on this stream: logged; the client gets a 500 if nothing of an answer was sent, else the stream is reset. */
  private crashed(error: unknown): void {
    this.router.bug(error);
    try {
      if (!this.finished && !this.response && this.open && !this.stream.headersSent) {
        this.exchange.cancelHold?.();
        this.answer(plainPage(500, '500 the router failed on this request; the platform log says why'));
        return;
      }
    } catch (again) {
      this.router.bug(again);
    }
    this.fail();
  }

  /** Something broke mid-answer: the stream is reset, the app's connection dropped. */
  private fail(): void {
    if (!this.finished) this.exchange.detail ??= this.response ? 'the connection broke during the answer' : 'the connection broke before an answer';
    this.dropLink();
    if (!this.stream.destroyed) this.stream.close(this.response ? NGHTTP2_INTERNAL_ERROR : NGHTTP2_CANCEL);
  }

  private dropLink(): void {
    const link = this.link;
    this.link = undefined;
    if (link) {
      link.owner = undefined;
      link.socket.destroy();
    }
  }

  private onClose(): void {
    if (this.finished) return;
    this.finished = true;
    this.dropLink();
    this.exchange.cancelHold?.();
    this.router.finished(this.exchange);
  }
}
