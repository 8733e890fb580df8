import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, portIsFree } from '../../src/shared/ports.js';

/** Where the kernel's own port choices (listen on port 0, outgoing connections) begin. */
function ephemeralStart(): number {
  if (process.platform !== 'linux') return 49_152;
  return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
}

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(server));
  });
}

describe('the ports Paasmaker hands to apps and managed servers', () => {
  it('lie below the kernel’s ephemeral range, so no other program’s listen on port 0 takes one while its app restarts', async () => {
    const start = ephemeralStart();
    const ports = await Promise.all(Array.from({ length: 300 }, () => freePort()));
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(10_000);
      expect(port).toBeLessThan(start);
    }
    // Never the same one twice, even to calls made at once (twenty apps starting together).
    expect(new Set(ports).size).toBe(ports.length);
    // What the kernel hands out meanwhile never lands there.
    const kernel = await Promise.all(Array.from({ length: 40 }, () => listen(0)));
    try {
      const taken = new Set(kernel.map((server) => (server.address() as { port: number }).port));
      expect(ports.filter((port) => taken.has(port))).toEqual([]);
    } finally {
      await Promise.all(kernel.map((server) => new Promise((resolve) => server.close(resolve))));
    }
  });

  it('are free to listen on; a port something listens on is not free', async () => {
    const port = await freePort();
    expect(await portIsFree(port)).toBe(true);
    const server = await listen(port);
    try {
      expect(await portIsFree(port)).toBe(false);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await portIsFree(port)).toBe(true);
  });
});
