import type { Server } from 'node:http';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { freePort } from '../../src/shared/ports.js';

/** Closes a server, dropping its open connections too, so no test waits on a kept-alive one. */
function closer(server: Server | NetServer): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      if ('closeAllConnections' in server) server.closeAllConnections();
      server.close(() => resolve());
    });
}

/** Listens on a free loopback port; close() also drops open connections. */
export async function listenOnLoopback(server: Server | NetServer): Promise<{ port: number; close: () => Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: closer(server) };
}

/** Listens on a Unix socket at path; close() also drops open connections. */
export async function listenOnSocket(server: Server | NetServer, path: string): Promise<{ close: () => Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return { close: closer(server) };
}

/**
 * A loopback port nothing listens on, chosen as the platform chooses its apps' ports (below the
 * kernel's ephemeral range): no listen(0) and no outgoing connection of another test takes it
 * meanwhile, so a test may listen on it again later (a process come back where it was).
 */
export const closedPort = (): Promise<number> => freePort();
