import { resolveSettings } from '../../shared/settings.js';
import { defineCommand } from '../command.js';
import type { DaemonFlags } from './daemon-start.js';

export default defineCommand<DaemonFlags>({
  name: 'daemon run',
  description: 'run the daemon in the foreground (what daemon start runs in the background)',
  hidden: true,
  options: [
    { flags: '--proxy-port <port>', description: "the router's port" },
    { flags: '--tls-port <port>', description: "the router's https port" },
    { flags: '--no-tls', description: 'the router listens without TLS' },
    { flags: '--api-port <port>', description: 'also serve the API on 127.0.0.1:PORT, for users with an API token (paasmaker token create) or a console session' },
  ],
  run: async ({ options }) => (await import('../../daemon/index.js')).runDaemon(resolveSettings({ flags: options })),
});
