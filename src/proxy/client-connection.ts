import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ConnectionLimit, Sheddable } from './connection-limit.js';
import { clientResponseHead, ownResponseHead, upstreamRequestHead } from './headers.js';
import { BodyFraming, headEnd, HttpParseError, incompleteHeadProblem, MAX_HEAD, parseRequestHead, type RequestHead, type ResponseHead } from './http1.js';
import { plainPage, type Page } from './pages.js';
import type { RouteTarget } from './routing-table.js';
import type { UpstreamLink, UpstreamOwner } from './upstream-pool.js';

/** Deadlines of a client connection. */
export interface ConnectionDeadlines {
  /** From the first byte of a request head to its blank line; 408 after it. */
  headMs: number;
  /** How long a connection may sit idle between requests. */
  idleMs: number;
}

/** What a connection asks of the router: where a request goes, and where numbers go. */
export interface Dispatcher {
  /** Routes the exchange's request: forwards it, holds it, or answers with a page. */
  route(exchange: Exchange): void;
  /** An exchange ended (answered, failed or abandoned): count it. */
  finished(exchange: Exchange): void;
  /** A connection to an app's port: a pooled one unless `fresh`; `once`: the request cannot be sent again if the connection fails. */
  connect(port: number, owner: UpstreamOwner, fresh: boolean, once: boolean): UpstreamLink;
  reuse(link: UpstreamLink, keepAliveSeconds: number | undefined): void;
  /** Takes an app connection out of the pool for good, as one end of a tunnel. */
  tunnel(link: UpstreamLink): Socket;
  /** Something threw that should not have: logged with its stack; the connection answers 500 or closes. */
  bug(error: unknown): void;
}

/**
 * The client side of an exchange, as the router sees it: an HTTP/1.1
 * connection (ClientConnection) or one HTTP/2 stream (H2Stream).
 */
export interface ExchangeConnection {
  /** The client's address. */
  readonly address: string;
  /** The client came over TLS: the app is told so in X-Forwarded-Proto and Forwarded. */
  readonly secure: boolean;
  /** Whether the client is still there to answer. */
  readonly open: boolean;
  /** Sends the request to an app's port (HTTP/1.1 to the app, whatever the client spoke). */
  forward(port: number): void;
  /** The router's own answer (a page). */
  answer(page: Page): void;
  /** Runs a step started from outside the connection's events (a held request going on), answering 500 if it throws. */
  run(step: () => void): void;
}

/** One request and its answer, as the router sees it. */
export class Exchange {
  readonly started = performance.now();
  target: RouteTarget | undefined;
  /** Which process answers, for least-outstanding balancing. */
  upstreamKey: string | undefined;
  status = 0;
  bytesIn = 0;
  bytesOut = 0;
  /** Forwarding attempts so far (a refused connection is retried once elsewhere). */
  attempt = 0;
  /** Set while the request waits for its instance; called if the client leaves. */
  cancelHold: (() => void) | undefined;
  /** Why the last attempt to forward failed, for the router to retry or explain. */
  failure: ForwardFailure | undefined;
  /** The process it was last sent to (kept after the count of outstanding requests settles), for the request inspector. */
  upstream: string | undefined;
  /** The app's response head, as parsed (the request inspector keeps its raw text). */
  response: ResponseHead | undefined;
  /** The router's own answer, when it gave one. */
  page: Page | undefined;
  /** Why the app did not answer (or the answer broke), in a line. */
  detail: string | undefined;

  constructor(
    readonly head: RequestHead,
    readonly connection: ExchangeConnection,
  ) {}

  /** A retry is safe: nothing of a body can have been lost, and repeating it changes nothing. */
  get retryable(): boolean {
    return this.head.contentLength === 0 && !this.head.chunked && IDEMPOTENT.has(this.head.method);
  }
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/**
 * One client connection: reads request heads, passes each request and its
 * answer through unchanged apart from the hop-by-hop headers, one exchange
 * at a time (pipelined requests wait their turn), then a tunnel if the app
 * switches protocols. The socket is a plain TCP one or, from the https
 * listener, a TLS one after its handshake: the framing is the same.
 */
export class ClientConnection implements UpstreamOwner, ExchangeConnection, Sheddable {
  /** Bytes read and not yet consumed: the next head, or a body that waits for its upstream. */
  private pending: Buffer | undefined;
  private exchange: Exchange | undefined;
  private requestBody: BodyFraming | undefined;
  private link: UpstreamLink | undefined;
  private response: ResponseHead | undefined;
  private responseBody: BodyFraming | undefined;
  private responsePending: Buffer | undefined;
  /** The client connection ends after the current response. */
  private closeAfter = false;
  /** The router has ended its side: whatever the client still sends is discarded. */
  private ending = false;
  private clientEnded = false;
  private tunnelled = false;
  /** No request in progress and nothing unread: first to be shed at the connection cap. */
  private idle = true;
  /** Runs while a request head is incomplete. */
  private headTimer: NodeJS.Timeout | undefined;
  /** How much of an incomplete head has been checked already. */
  private checkedHead = 0;
  /** Chunks read so far: an idle close checks that none came meanwhile. */
  private reads = 0;
  /** The last request head read, as bytes and parsed, and the head sent to the app for it: a client repeats itself. */
  private lastHeadBytes: Buffer | undefined;
  private lastHead: RequestHead | undefined;
  private lastUpstreamHead: Buffer | undefined;
  readonly address: string;
  /** The client came over TLS (the router's https listener): the app is told so in X-Forwarded-Proto and Forwarded. */
  readonly secure: boolean;
  /** The idle deadline in whole seconds, announced in each kept-alive response (`keep-alive: timeout=N`). */
  private readonly idleSeconds: number;

  constructor(
    readonly socket: Socket,
    private readonly router: Dispatcher,
    private readonly limit: ConnectionLimit<Sheddable>,
    private readonly deadlines: ConnectionDeadlines,
  ) {
    this.address = socket.remoteAddress ?? 'unknown';
    this.secure = (socket as TLSSocket).encrypted === true;
    this.idleSeconds = Math.floor(deadlines.idleMs / 1000);
    limit.add(this);
    socket.setNoDelay(true);
    socket.setTimeout(deadlines.idleMs);
    // Armed once: idle time is counted by Node from the last read or write, and
    // a quiet exchange (a long poll, an event stream) is never cut off; a
    // request body the client stopped sending to the app before any answer gets 408.
    socket.on('timeout', () => {
      if (this.exchange) {
        // Only while the router is reading: a socket it paused because the app reads slowly has not stalled.
        if (this.link && !this.response && this.requestBody && !this.requestBody.done && !socket.isPaused()) this.run(() => this.bodyTimedOut());
      } else if (!this.headTimer) {
        // (A head on its way has its own deadline, and gets a 408.)
        // The deadline's timer runs before this turn of the loop reads the sockets: a request the
        // client sent just now may be waiting unread, and closing on it would reset the client.
        // Closed after this turn's reads, and only if nothing came.
        const reads = this.reads;
        setImmediate(() => {
          if (this.reads === reads && !this.exchange && !this.headTimer) socket.destroy();
        });
      }
    });
    socket.on('data', (chunk: Buffer) => {
      this.reads++;
      try {
        this.onData(chunk);
      } catch (error) {
        this.crashed(error);
      }
    });
    socket.on('drain', () => this.link?.socket.resume());
    socket.on('end', () => {
      this.clientEnded = true;
      if (!this.exchange) socket.end();
      // Gone before its body was all sent: the app would wait for the rest forever.
      else if (this.link && this.requestBody && !this.requestBody.done) this.fail();
    });
    socket.on('error', () => socket.destroy());
    socket.once('close', () => {
      try {
        this.onClose();
      } catch (error) {
        this.router.bug(error);
      }
    });
  }

  /** Closed to make room for a newer connection (the router is at its cap). */
  shed(): void {
    this.socket.destroy();
  }

  get flushing(): boolean {
    return this.socket.writableLength > 0;
  }

  /** Runs a step started from outside a socket event (a held request going on), answering 500 if it throws. */
  run(step: () => void): void {
    try {
      step();
    } catch (error) {
      this.crashed(error);
    }
  }

  // ---- reading requests ----

  private onData(chunk: Buffer): void {
    if (this.ending) return;
    if (this.exchange && this.link && this.requestBody && !this.requestBody.done) {
      // A body on its way to the app.
      const taken = this.take(this.requestBody, chunk, 0, true);
      if (taken === undefined) return;
      if (taken > 0) this.sendBody(taken === chunk.length ? chunk : chunk.subarray(0, taken));
      if (taken < chunk.length) this.stash(chunk.subarray(taken));
      this.flow();
      return;
    }
    this.stash(chunk);
    if (!this.exchange) {
      if (this.idle) {
        this.idle = false;
        this.limit.markBusy(this);
      }
      this.nextRequest();
    } else this.flow();
  }

  /**
   * How much of buffer belongs to the body; undefined when its framing is
   * broken: a request body the app has not begun to answer gets 400, anything
   * else drops both connections.
   */
  private take(body: BodyFraming, buffer: Buffer, offset: number, request: boolean): number | undefined {
    try {
      return body.take(buffer, offset);
    } catch (error) {
      if (request && this.exchange && !this.response) {
        this.closeAfter = true;
        this.dropLink();
        this.pending = undefined;
        const status = error instanceof HttpParseError ? error.status : 400;
        this.answer(plainPage(status, `${status} ${(error as Error).message}`));
      } else {
        this.fail();
      }
      return undefined;
    }
  }

  private stash(chunk: Buffer): void {
    this.pending = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
  }

  /** Reads the next request head from what has arrived, if it is all there. */
  private nextRequest(): void {
    if (this.exchange || this.tunnelled || this.socket.destroyed) return;
    let buffer = this.pending;
    // Blank lines between requests are allowed (RFC 9112 §2.2).
    while (buffer && buffer.length >= 2 && buffer[0] === 0x0d && buffer[1] === 0x0a) {
      buffer = buffer.length === 2 ? undefined : buffer.subarray(2);
      this.checkedHead = 0;
    }
    this.pending = buffer;
    if (!buffer) {
      if (this.clientEnded) this.socket.end();
      else this.becomeIdle();
      return;
    }
    const end = headEnd(buffer);
    if (end === -1) {
      // Refused as soon as it cannot be HTTP/1.x, without waiting for a blank line that may never come.
      const problem = buffer.length > MAX_HEAD ? new HttpParseError(431, 'request head too large') : incompleteHeadProblem(buffer, this.checkedHead);
      if (problem) this.reject(problem);
      else if (this.clientEnded) this.socket.end();
      else {
        this.checkedHead = buffer.length;
        this.headTimer ??= setTimeout(() => this.headTimedOut(), this.deadlines.headMs);
      }
      return;
    }
    this.checkedHead = 0;
    if (this.headTimer) {
      clearTimeout(this.headTimer);
      this.headTimer = undefined;
    }
    if (end > MAX_HEAD) {
      this.reject(new HttpParseError(431, 'request head too large'));
      return;
    }
    let head: RequestHead;
    const last = this.lastHeadBytes;
    // The same bytes as the last head parse the same: that head again (a parsed head is never changed).
    if (last !== undefined && last.length === end && buffer.compare(last, 0, end, 0, end) === 0) head = this.lastHead!;
    else {
      try {
        head = parseRequestHead(buffer, end);
      } catch (error) {
        this.reject(error instanceof HttpParseError ? error : new HttpParseError(400, String(error)));
        return;
      }
      // A copy: a slice would keep the whole chunk it came in alive.
      this.lastHeadBytes = Buffer.from(buffer.subarray(0, end));
      this.lastHead = head;
      this.lastUpstreamHead = undefined;
    }
    this.pending = end < buffer.length ? buffer.subarray(end) : undefined;
    const exchange = new Exchange(head, this);
    this.exchange = exchange;
    this.requestBody = new BodyFraming(head);
    this.closeAfter = !head.keepAlive || head.version === '1.0';
    if (head.method === 'CONNECT') {
      this.closeAfter = true;
      this.answer(plainPage(405, 'This router serves apps by hostname; it is not a forward proxy.'));
      return;
    }
    this.flow();
    this.router.route(exchange);
  }

  /** The head deadline passed: a slow or stalled client cannot hold a connection open a byte at a time. */
  private headTimedOut(): void {
    this.headTimer = undefined;
    if (this.exchange || this.ending || !this.pending || this.socket.destroyed) return;
    this.reject(new HttpParseError(408, `the request head did not arrive within ${this.deadlines.headMs / 1000} s`));
  }

  private bodyTimedOut(): void {
    this.closeAfter = true;
    this.dropLink();
    this.answer(plainPage(408, `408 the request body stopped arriving for ${this.deadlines.idleMs / 1000} s`));
  }

  private becomeIdle(): void {
    if (this.idle || this.tunnelled) return;
    this.idle = true;
    this.limit.markIdle(this);
  }

  /** Whether to read from the client now: never faster than the request can go on. */
  private flow(): void {
    if (this.tunnelled) return;
    let read: boolean;
    if (!this.exchange) read = true;
    else if (this.requestBody && !this.requestBody.done) read = this.link !== undefined && this.link.socket.writableLength < 1024 * 1024 && !this.link.socket.writableNeedDrain;
    else read = (this.pending?.length ?? 0) < MAX_HEAD;
    if (read && this.socket.isPaused()) this.socket.resume();
    else if (!read && !this.socket.isPaused()) this.socket.pause();
  }

  private sendBody(chunk: Buffer): void {
    this.exchange!.bytesIn += chunk.length;
    if (!this.link!.socket.write(chunk)) this.socket.pause();
  }

  // ---- forwarding ----

  /** Sends the current request to an app's port; `fresh` skips pooled connections. */
  forward(port: number, fresh = false): void {
    const exchange = this.exchange!;
    const link = this.router.connect(port, this, fresh, !exchange.retryable);
    this.link = link;
    this.response = undefined;
    this.responseBody = undefined;
    this.responsePending = undefined;
    // The address and scheme are the connection's: the same request head makes the same upstream head.
    let head = exchange.head === this.lastHead ? this.lastUpstreamHead : undefined;
    if (!head) {
      head = Buffer.from(upstreamRequestHead(exchange.head, this.address, this.secure ? 'https' : 'http'), 'latin1');
      if (exchange.head === this.lastHead) this.lastUpstreamHead = head;
    }
    // The body that arrived with the head (or while held) goes in the same write.
    let body: Buffer | undefined;
    if (this.pending && !this.requestBody!.done) {
      const taken = this.take(this.requestBody!, this.pending, 0, true);
      if (taken === undefined) return;
      body = this.pending.subarray(0, taken);
      this.pending = taken < this.pending.length ? this.pending.subarray(taken) : undefined;
    }
    if (this.clientEnded && !this.requestBody!.done) {
      this.fail();
      return;
    }
    if (body && body.length > 0) {
      exchange.bytesIn += body.length;
      writeJoined(link.socket, head, body, 0, body.length);
    } else {
      link.socket.write(head);
    }
    this.flow();
  }

  upstreamDrain(link: UpstreamLink): void {
    if (link === this.link) this.flow();
  }

  upstreamData(link: UpstreamLink, chunk: Buffer): void {
    try {
      this.responseData(link, chunk);
    } catch (error) {
      this.crashed(error);
    }
  }

  private responseData(link: UpstreamLink, chunk: Buffer): void {
    if (link !== this.link || !this.exchange) {
      link.socket.destroy();
      return;
    }
    if (this.response) {
      this.responseChunk(chunk, 0);
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
      response = link.responseHead(buffer, end);
    } catch (error) {
      this.badGateway(`malformed response: ${(error as Error).message}`);
      return;
    }
    const exchange = this.exchange;
    if (response.status < 200) {
      if (response.status === 101) {
        exchange.response = response;
        if (exchange.head.upgrade) this.switchProtocols(buffer.subarray(0, end), buffer.subarray(end));
        else this.badGateway('switched protocols without being asked');
        return;
      }
      // 100 Continue, 103 Early Hints: passed on (HTTP/1.0 clients know none), then the real answer.
      if (exchange.head.version === '1.1') this.socket.write(buffer.subarray(0, end));
      if (end < buffer.length) this.responseData(link, buffer.subarray(end));
      return;
    }
    this.response = response;
    exchange.status = response.status;
    exchange.response = response;
    const bodiless = exchange.head.method === 'HEAD' || response.status === 204 || response.status === 304;
    const untilClose = !bodiless && !response.chunked && response.contentLength === undefined;
    this.responseBody = new BodyFraming(bodiless ? { contentLength: 0, chunked: false } : response, untilClose);
    // A body still coming from the client when the answer starts leaves the connection's framing unknown.
    if (untilClose || !this.requestBody!.done) this.closeAfter = true;
    // The head the client gets depends on the app's head and on closing alone: made once per link while they repeat.
    let head = link.clientHead!;
    if (link.clientHeadFor !== response || link.clientHeadClose !== this.closeAfter) {
      head = link.clientHead = Buffer.from(clientResponseHead(response, this.closeAfter, this.idleSeconds), 'latin1');
      link.clientHeadFor = response;
      link.clientHeadClose = this.closeAfter;
    }
    if (end === buffer.length) {
      this.socket.write(head);
      if (this.responseBody.done) this.complete();
      return;
    }
    this.responseChunk(buffer, end, head);
  }

  /** Passes on the response body in chunk from offset, after `head` when there is one: one write either way. */
  private responseChunk(chunk: Buffer, offset: number, head?: Buffer): void {
    const body = this.responseBody!;
    const taken = this.take(body, chunk, offset, false);
    if (taken === undefined) return;
    if (taken > 0) {
      this.exchange!.bytesOut += taken;
      const more = head ? writeJoined(this.socket, head, chunk, offset, taken) : this.socket.write(offset === 0 && taken === chunk.length ? chunk : chunk.subarray(offset, offset + taken));
      if (!more) this.link!.socket.pause();
    } else if (head) {
      this.socket.write(head);
    }
    if (offset + taken < chunk.length) {
      // More than the response said it was: the app's connection cannot be trusted again.
      this.link!.reused = false;
      this.closeAfter = true;
      this.complete(false);
      return;
    }
    if (body.done) this.complete();
  }

  upstreamClosed(link: UpstreamLink, error: NodeJS.ErrnoException | undefined): void {
    this.run(() => this.upstreamGone(link, error));
  }

  private upstreamGone(link: UpstreamLink, error: NodeJS.ErrnoException | undefined): void {
    if (link !== this.link || !this.exchange) return;
    this.link = undefined;
    const exchange = this.exchange;
    if (this.response) {
      // A body delimited by the close is complete; any other is cut short.
      if (this.responseBody?.untilClose) this.complete(false);
      else this.fail();
      return;
    }
    const nothingBack = this.responsePending === undefined;
    if (nothingBack && exchange.retryable && link.reused) {
      // A kept-alive connection the app closed as the request went out: the request never arrived.
      link.reused = false;
      this.forward(link.port, true);
      return;
    }
    exchange.failure = { error, connected: link.connected, nothingBack };
    this.router.route(exchange);
  }

  // ---- answers ----

  /** The router's own answer (a page), in one write. */
  answer(page: Page): void {
    const exchange = this.exchange;
    if (!exchange || this.response || this.socket.destroyed) {
      this.socket.destroy();
      return;
    }
    // An unread body leaves no way to find the next request.
    if (!this.requestBody!.done) this.closeAfter = true;
    const body = exchange.head.method === 'HEAD' ? '' : page.body;
    exchange.status = page.status;
    exchange.page = page;
    exchange.bytesOut += Buffer.byteLength(body);
    const head = ownResponseHead(page.status, { ...page.headers, 'content-length': Buffer.byteLength(page.body) }, this.closeAfter, this.idleSeconds);
    this.socket.write(head + body);
    this.dropLink();
    this.done();
  }

  private badGateway(detail: string): void {
    const exchange = this.exchange!;
    this.dropLink();
    exchange.failure = { error: undefined, connected: true, nothingBack: false, detail };
    this.router.route(exchange);
  }

  /** The response is complete: count it, return the app's connection, go on to the next request. */
  private complete(reusable = true): void {
    const link = this.link;
    this.link = undefined;
    if (link) {
      link.owner = undefined;
      // An upgrade the app declined leaves its parser expecting the new protocol (Node then ignores
      // a malformed next request instead of refusing it): that connection is not used again.
      const reuse = reusable && !this.response!.close && this.requestBody!.done && this.exchange!.head.version === '1.1' && !this.exchange!.head.upgrade;
      if (reuse) this.router.reuse(link, this.response!.keepAliveSeconds);
      else link.socket.destroy();
    }
    this.done();
  }

  private done(): void {
    const exchange = this.exchange!;
    this.exchange = undefined;
    this.requestBody = undefined;
    this.response = undefined;
    this.responseBody = undefined;
    this.router.finished(exchange);
    if (this.closeAfter) {
      this.ending = true;
      this.socket.end();
      this.pending = undefined;
      return;
    }
    this.flow();
    if (this.pending) this.nextRequest();
    else if (this.clientEnded) this.socket.end();
    else this.becomeIdle();
  }

  /** A malformed request: say so and close. */
  private reject(error: HttpParseError): void {
    this.pending = undefined;
    this.ending = true;
    if (this.headTimer) clearTimeout(this.headTimer);
    this.headTimer = undefined;
    const page = plainPage(error.status, `${error.status} ${error.message}`);
    this.socket.end(ownResponseHead(error.status, { ...page.headers, 'content-length': Buffer.byteLength(page.body) }, true) + page.body);
  }

  /** A bug met on this connection: logged; the client gets a 500 if nothing of an answer was sent, else the connection goes. */
  private crashed(error: unknown): void {
    this.router.bug(error);
    try {
      if (this.exchange && !this.response && !this.ending && !this.socket.destroyed) {
        this.exchange.cancelHold?.();
        this.closeAfter = true;
        this.dropLink();
        this.answer(plainPage(500, '500 the router failed on this request; the platform log says why'));
        return;
      }
    } catch (again) {
      this.router.bug(again);
    }
    this.fail();
  }

  /** Something broke mid-message: no answer can be trusted now, so both connections go. */
  private fail(): void {
    if (this.exchange) this.exchange.detail ??= this.response ? 'the connection broke during the answer' : 'the connection broke before an answer';
    this.dropLink();
    this.socket.destroy();
  }

  private dropLink(): void {
    const link = this.link;
    this.link = undefined;
    if (link) {
      link.owner = undefined;
      link.socket.destroy();
    }
  }

  /** 101: from here on the two connections are one tunnel (WebSocket). */
  private switchProtocols(head: Buffer, rest: Buffer): void {
    const exchange = this.exchange!;
    const link = this.link!;
    this.link = undefined;
    this.tunnelled = true;
    exchange.status = 101;
    this.exchange = undefined;
    this.router.finished(exchange);
    const upstream = this.router.tunnel(link);
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('end');
    this.socket.removeAllListeners('drain');
    this.socket.removeAllListeners('timeout');
    this.socket.write(head);
    if (rest.length > 0) this.socket.write(rest);
    if (this.pending) upstream.write(this.pending);
    this.pending = undefined;
    upstream.pipe(this.socket);
    this.socket.pipe(upstream);
    upstream.on('error', () => this.socket.destroy());
    upstream.once('close', () => this.socket.destroy());
    this.socket.resume();
  }

  private onClose(): void {
    const exchange = this.exchange;
    this.exchange = undefined;
    this.limit.remove(this);
    if (this.headTimer) clearTimeout(this.headTimer);
    if (this.tunnelled) return;
    this.dropLink();
    if (exchange) {
      exchange.cancelHold?.();
      this.router.finished(exchange);
    }
  }

  /** Whether the client is still there to answer. */
  get open(): boolean {
    return !this.socket.destroyed;
  }
}

/** Bodies up to this size are copied after their head, so that both go in one write; longer ones go in a corked pair. */
const JOIN_LIMIT = 16 * 1024;

/** Writes head then body[offset, offset + length) in one write (a short body copied after the head, a long one corked); false: wait for drain. */
function writeJoined(socket: Socket, head: Buffer, body: Buffer, offset: number, length: number): boolean {
  if (length > JOIN_LIMIT) {
    socket.cork();
    socket.write(head);
    const more = socket.write(body.subarray(offset, offset + length));
    socket.uncork();
    return more;
  }
  const out = Buffer.allocUnsafe(head.length + length);
  head.copy(out, 0);
  body.copy(out, head.length, offset, offset + length);
  return socket.write(out);
}

/** Why forwarding failed, when it did. */
export interface ForwardFailure {
  error: NodeJS.ErrnoException | undefined;
  /** The connection to the app was made (so the request may have reached it). */
  connected: boolean;
  /** Not a byte of an answer came back. */
  nothingBack: boolean;
  detail?: string;
}
