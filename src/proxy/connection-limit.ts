import { descriptorLimit } from '../shared/descriptors.js';

/** Descriptors kept for the platform's own work: state, logs, the API, process pipes, databases. */
const RESERVE = 256;
/** Never fewer client connections than this, however low the limit. */
const MINIMUM = 64;

/**
 * How many client connections the router keeps open at most when the user
 * set no cap (PAASMAKER_MAX_CONNECTIONS, resolved with the other settings):
 * half of what the descriptor limit leaves after the reserve (each client
 * connection may hold one to an app too).
 */
export function maxClientConnections(): number {
  const { soft } = descriptorLimit();
  if (!Number.isFinite(soft)) return 1_000_000;
  return Math.max(MINIMUM, Math.floor((soft - RESERVE) / 2));
}

/** What the limit needs of a connection: to be closed when it is shed. */
export interface Sheddable {
  shed(): void;
  /** An answer is still on its way out (a slow reader): closing now would cut it short. */
  readonly flushing: boolean;
}

/**
 * The router's open client connections, and the idle ones in the order
 * they fell idle: at the cap the longest idle is closed for a newcomer, and
 * only when none is idle is the newcomer turned away.
 */
export class ConnectionLimit<T extends Sheddable> {
  private readonly open = new Set<T>();
  /** Insertion order is idle order: deleting and adding again moves one to the back. */
  private readonly idle = new Set<T>();
  /** Connections shed or refused so far. */
  shedCount = 0;
  refusedCount = 0;

  constructor(readonly max: number) {}

  get size(): number {
    return this.open.size;
  }

  /** Makes room for one more connection; false when every open one is busy. */
  admit(): boolean {
    while (this.open.size >= this.max) {
      let oldest: T | undefined;
      for (const connection of this.idle) {
        if (!connection.flushing) {
          oldest = connection;
          break;
        }
      }
      if (!oldest) {
        this.refusedCount++;
        return false;
      }
      this.remove(oldest);
      this.shedCount++;
      oldest.shed();
    }
    return true;
  }

  /** A new connection, idle until its first request arrives. */
  add(connection: T): void {
    this.open.add(connection);
    this.idle.add(connection);
  }

  markIdle(connection: T): void {
    if (this.open.has(connection)) this.idle.add(connection);
  }

  markBusy(connection: T): void {
    this.idle.delete(connection);
  }

  remove(connection: T): void {
    this.open.delete(connection);
    this.idle.delete(connection);
  }
}
