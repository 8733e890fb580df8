import { connect, type Socket } from 'node:net';
import { parseResponseHead, type ResponseHead } from './http1.js';

/** What an upstream connection reports to the exchange that holds it. */
export interface UpstreamOwner {
  upstreamData(link: UpstreamLink, chunk: Buffer): void;
  upstreamDrain(link: UpstreamLink): void;
  upstreamClosed(link: UpstreamLink, error: NodeJS.ErrnoException | undefined): void;
}

/**
 * Idle connections kept per app port: as many as a busy moment had in use (256
 * clients at once reuse 256), since one closed here is one reopened for the next
 * request. The newest are reused first, so the ones a quieter moment leaves
 * over reach their idle timeout and close.
 */
const MAX_IDLE = 1024;
/** Node servers drop idle connections after 5 s; leave well before the app does. */
const DEFAULT_IDLE_MS = 4000;
/**
 * A request that cannot be sent twice (a POST, a body) goes only on a
 * connection used this recently. An app that closes an idle connection
 * (its own keep-alive timeout, unannounced, of a second or more) may close
 * it just as a request goes out on it: a GET is then sent again on a new
 * connection, but a POST the app may have read cannot be, and would get a
 * 502. A connection busy a moment ago is not about to be closed for idling.
 */
const RECENT_MS = 1000;

/**
 * One connection to an app's port. Its listeners are set once and report to
 * whichever exchange owns it now, so reuse costs no listener churn.
 */
export class UpstreamLink {
  owner: UpstreamOwner | undefined;
  /** It served an earlier exchange: a failure before any answer may be a stale keep-alive. */
  reused = false;
  /** When it went back to the pool (performance.now()). */
  idleSince = 0;
  /** Its process is being stopped: closed when its exchange ends, never pooled again. */
  retiring = false;
  connected = false;
  /** The idle timeout armed on the socket, changed only when the app's Keep-Alive says otherwise. */
  idleMs = 0;
  private error: NodeJS.ErrnoException | undefined;
  /** The last response head read on this connection, as bytes and parsed: an app answers alike until its Date ticks. */
  private lastHeadBytes: Buffer | undefined;
  private lastHead: ResponseHead | undefined;
  /** What the client was sent for lastHead, and whether that said close. */
  clientHead: Buffer | undefined;
  clientHeadFor: ResponseHead | undefined;
  clientHeadClose = false;

  constructor(
    readonly port: number,
    readonly socket: Socket,
    private readonly pool: UpstreamPool,
  ) {
    socket.setNoDelay(true);
    socket.once('connect', () => (this.connected = true));
    socket.on('data', (chunk: Buffer) => {
      if (this.owner) this.owner.upstreamData(this, chunk);
      else socket.destroy(); // an idle connection has nothing to say
    });
    socket.on('drain', () => this.owner?.upstreamDrain(this));
    socket.on('error', (error: NodeJS.ErrnoException) => (this.error = error));
    // Only an idle connection times out; one in use may wait as long as its answer takes.
    socket.on('timeout', () => {
      if (!this.owner) socket.destroy();
    });
    socket.once('close', () => {
      this.pool.forget(this);
      const owner = this.owner;
      this.owner = undefined;
      owner?.upstreamClosed(this, this.error);
    });
  }

  /**
   * Parses a response head (bytes up to and including its blank line), or
   * hands back the one parsed last when the bytes are the same: a parsed
   * head is never changed, so both answers are one object.
   */
  responseHead(buffer: Buffer, end: number): ResponseHead {
    const last = this.lastHeadBytes;
    if (last !== undefined && last.length === end && buffer.compare(last, 0, end, 0, end) === 0) return this.lastHead!;
    const head = parseResponseHead(buffer, end);
    // A copy: a slice would keep the whole chunk it came in alive.
    this.lastHeadBytes = Buffer.from(buffer.subarray(0, end));
    this.lastHead = head;
    return head;
  }

  get usable(): boolean {
    return !this.socket.destroyed && this.socket.writable;
  }
}

/** Keep-alive connections to apps, newest first, so a few warm ones carry the load. */
export class UpstreamPool {
  private readonly idle = new Map<number, UpstreamLink[]>();
  private readonly all = new Set<UpstreamLink>();

  /**
   * A connection to the port for owner's exchange: the newest idle one, or a
   * new one when `fresh`, when there is none, or when `once` (a request that
   * cannot be sent again) and the newest has been idle longer than RECENT_MS.
   */
  acquire(port: number, owner: UpstreamOwner, fresh = false, once = false): UpstreamLink {
    const stack = this.idle.get(port);
    // The newest is on top: when it is too old for a request sent once, so is every other.
    if (once && stack && stack.length > 0 && performance.now() - stack[stack.length - 1]!.idleSince > RECENT_MS) fresh = true;
    while (!fresh && stack && stack.length > 0) {
      const link = stack.pop()!;
      if (!link.usable) continue;
      link.reused = true;
      link.owner = owner;
      return link;
    }
    const link = new UpstreamLink(port, connect({ host: '127.0.0.1', port }), this);
    link.owner = owner;
    this.all.add(link);
    return link;
  }

  /** Back to the pool after a complete exchange, for as long as the app keeps it open. */
  release(link: UpstreamLink, keepAliveSeconds?: number): void {
    link.owner = undefined;
    const idleMs = keepAliveSeconds === undefined ? DEFAULT_IDLE_MS : Math.min(30_000, keepAliveSeconds * 1000 - 1000);
    let stack = this.idle.get(link.port);
    if (!stack) this.idle.set(link.port, (stack = []));
    if (idleMs <= 0 || stack.length >= MAX_IDLE || !link.usable || link.retiring) {
      link.socket.destroy();
      return;
    }
    link.idleSince = performance.now();
    // A response that ended while the client was slow may have left it paused.
    link.socket.resume();
    if (link.idleMs !== idleMs) link.socket.setTimeout((link.idleMs = idleMs));
    stack.push(link);
  }

  forget(link: UpstreamLink): void {
    this.all.delete(link);
    const stack = this.idle.get(link.port);
    if (!stack) return;
    const at = stack.indexOf(link);
    if (at !== -1) stack.splice(at, 1);
    if (stack.length === 0) this.idle.delete(link.port);
  }

  /** Takes a connection out of the pool for good (it became a tunnel). */
  detach(link: UpstreamLink): Socket {
    link.owner = undefined;
    this.forget(link);
    link.socket.removeAllListeners('data');
    link.socket.removeAllListeners('drain');
    link.socket.removeAllListeners('timeout');
    return link.socket;
  }

  /**
   * The process on a port is about to stop: its idle connections close now,
   * and one still carrying an exchange closes when that ends instead of
   * going back to the pool, where it would hold the process open.
   */
  retirePort(port: number): void {
    for (const link of this.all) if (link.port === port) link.retiring = true;
    for (const link of this.idle.get(port) ?? []) link.socket.destroy();
    this.idle.delete(port);
  }

  destroy(): void {
    for (const link of this.all) link.socket.destroy();
    this.all.clear();
    this.idle.clear();
  }
}
