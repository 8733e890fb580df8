import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** The lowest port Paasmaker hands to an app or a managed server: below are the ports people type (3000, 5432, 8080…). */
const LOWEST = 10_000;
/** Random ports tried before the kernel's choice is taken instead. */
const TRIES = 32;

/** How many ports this process handed out or tried lately, which it does not hand out again. */
const REMEMBERED = 1024;

let range: { low: number; high: number } | null | undefined;
/**
 * The ports handed out or tried lately, oldest first: twenty apps starting at
 * once would otherwise draw the same one about once in a hundred starts (each
 * is free until its process binds it).
 */
const handedOut = new Set<number>();

/**
 * The ports Paasmaker chooses from: LOWEST up to the start of the kernel's
 * ephemeral range (Linux's ip_local_port_range, 32768 by default; 49152, the
 * IANA range, elsewhere). Null when that leaves fewer than 1,000 ports (a
 * machine whose ephemeral range starts low).
 */
function choosableRange(): { low: number; high: number } | null {
  if (range !== undefined) return range;
  let ephemeral = 49_152;
  if (process.platform === 'linux') {
    try {
      const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
      if (Number.isInteger(first) && first > 0) ephemeral = first;
    } catch {
      // No /proc: Linux's default.
      ephemeral = 32_768;
    }
  }
  range = ephemeral - LOWEST >= 1000 ? { low: LOWEST, high: ephemeral - 1 } : null;
  return range;
}

/**
 * Listens on a loopback port exclusively and closes at once: resolves with the
 * port bound (the kernel's choice for port 0), rejects with the listen error.
 */
function listenOnce(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(bound));
    });
  });
}

/** Whether nothing listens on a loopback port now (an exclusive listen there succeeds). */
export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return listenOnce(port, host).then(
    () => true,
    () => false,
  );
}

/**
 * A free loopback port for an app's process or a managed server, chosen at
 * random below the kernel's ephemeral range. A port from that range (what
 * listening on port 0 gives) is shared with every process on the machine:
 * while its app restarts after a crash, on the same port, any other program's
 * listen on port 0 can be handed it, and the app then fails to bind. Ports
 * below the range are never handed out by the kernel on its own. No port is
 * handed out twice within the last REMEMBERED. The port is released before the
 * app binds it; the supervisor's readiness check catches the rare race. Falls
 * back to the kernel's choice.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const choosable = choosableRange();
  if (choosable) {
    for (let i = 0; i < TRIES; i++) {
      const port = choosable.low + Math.floor(Math.random() * (choosable.high - choosable.low + 1));
      if (handedOut.has(port)) continue;
      // Taken before the probe, so that calls running at once never both return it.
      remember(port);
      if (await portIsFree(port, host)) return port;
    }
  }
  // The kernel's choice (listen on port 0), from its ephemeral range.
  return remember(await listenOnce(0, host));
}

function remember(port: number): number {
  handedOut.add(port);
  if (handedOut.size > REMEMBERED) handedOut.delete(handedOut.values().next().value!);
  return port;
}
