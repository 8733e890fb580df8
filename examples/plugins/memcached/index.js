// A Paasmaker plugin: one memcached server for the platform, supervised like
// the built-in Redis, and a `memcached` service plugin that hands each app
// its URL (MEMCACHED_URL) and a key prefix of its own.
//
// Plain JavaScript with JSDoc types: it loads without a build step, and an
// editor still checks it against paasmaker/plugin's declarations.
import { createConnection } from 'node:net';
import { definePlugin, ManagedServer, PaasmakerError, requireBinary, shellQuote, z } from 'paasmaker/plugin';

/** @typedef {import('paasmaker/plugin').ServiceContext} ServiceContext */
/** @typedef {import('paasmaker/plugin').ServiceRequest} ServiceRequest */
/** @typedef {import('paasmaker/plugin').ServerEndpoint} ServerEndpoint */

const INSTALL = 'install memcached: sudo apt-get install memcached (Debian, Ubuntu), sudo dnf install memcached (Fedora), brew install memcached (macOS)';

/** Sends one command line, resolves with the first line of the reply. */
function ask(port, line) {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(2000, () => socket.destroy(new Error('no answer within 2 s')));
    socket.on('connect', () => socket.write(`${line}\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      const end = reply.indexOf('\r\n');
      if (end >= 0) {
        socket.end();
        resolve(reply.slice(0, end));
      }
    });
    socket.on('error', reject);
  });
}

/** The platform's memcached: no data on disk (it is a cache), on a port the platform chooses, loopback only. */
class MemcachedServer extends ManagedServer {
  /** @param {ServiceContext} context */
  constructor(context) {
    super('memcached', context);
    this.title = 'memcached';
    this.binary = requireBinary(['memcached'], 'the memcached service', INSTALL, context.env);
    this.version = '';
  }

  // Nothing to initialise: memcached keeps everything in memory.
  initialised() {
    return true;
  }

  async initialise() {}

  configure() {}

  /** @param {number} port */
  command(port) {
    // -U 0: no UDP. As root, ManagedServer already runs it as an unprivileged user.
    return `exec ${shellQuote(this.binary)} -l 127.0.0.1 -p ${port} -U 0 -m 64`;
  }

  /** @param {ServerEndpoint} endpoint */
  async waitUntilReady(endpoint) {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        this.version = (await ask(endpoint.port, 'version')).replace(/^VERSION /, '');
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new PaasmakerError('SERVICE_FAILED', `memcached on port ${endpoint.port} does not answer: ${error.message}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }
}

/** Options a config.yml symbol or a manifest's service may give. */
const options = z.object({
  /** The prefix the app is told to put before its keys (MEMCACHED's <NAME>_PREFIX); default "<app>:<service>:". */
  prefix: z.string().regex(/^[A-Za-z0-9:._-]{1,64}$/, { error: 'must be 1 to 64 letters, digits or : . _ -' }).optional(),
});

/** @param {ServiceRequest} request */
const prefixOf = (request) => (typeof request.options.prefix === 'string' ? request.options.prefix : `${request.app}:${request.service}${request.branch ? `:${request.branch}` : ''}:`);

export default definePlugin({
  name: 'paasmaker-plugin-memcached',
  version: '0.1.0',
  services: {
    memcached: {
      summary: "a key prefix on the platform's own memcached",
      options,
      factory: (context) => {
        /** @type {MemcachedServer | undefined} */
        let server;
        const get = () => (server ??= new MemcachedServer(context));
        return {
          name: 'memcached',
          summary: "a key prefix on the platform's own memcached",
          kind: 'values',
          urlVariable: 'MEMCACHED_URL',
          async provision(request) {
            const { port } = await get().ensure();
            const url = `memcached://127.0.0.1:${port}`;
            // memcached has no users or databases: apps share the server, each under its own prefix.
            return { protocol: 'memcached', hostname: '127.0.0.1', port, url, values: { prefix: prefixOf(request) } };
          },
          async destroy(request) {
            // Keys cannot be listed by prefix; they expire or are evicted. Nothing is kept on disk.
            context.say(`memcached: ${prefixOf(request)}* is left to expire`);
          },
          status: () => ({ ...get().status(), version: get().version ? `memcached ${get().version}` : 'memcached' }),
          stop: async () => server?.stop(),
          shell: (credentials) => ({ command: 'telnet', args: ['127.0.0.1', String(credentials.port)], env: {} }),
        };
      },
    },
  },
});
