import { resolveSettings } from '../../shared/settings.js';
import { defineCommand } from '../command.js';
import { colorEnabled, painter } from '../output.js';
import { noteUnappliedFlags } from '../unapplied-flags.js';

export type DaemonFlags = { proxyPort?: string; tlsPort?: string; tls?: boolean; apiPort?: string };

export default defineCommand<DaemonFlags>({
  name: 'daemon start',
  description: 'start the daemon (and bring back the projects it ran)',
  options: [
    { flags: '--proxy-port <port>', description: "the router's port (default: the one of its last run, else $PAASMAKER_PROXY_PORT, else 7654; 0 picks a free one)" },
    { flags: '--tls-port <port>', description: "the router's https port (default: the one of its last run, else $PAASMAKER_TLS_PORT, else 7655; 0 picks a free one)" },
    { flags: '--no-tls', description: 'the router listens without TLS (no https://)' },
    { flags: '--api-port <port>', description: 'also serve the API on 127.0.0.1:PORT, for users with an API token (paasmaker token create) or a console session (0 picks a free one)' },
  ],
  examples: ['paasmaker daemon start', 'paasmaker daemon start --api-port 7656    the API on TCP too, for other tools'],
  run: async ({ options }) => {
    const settings = resolveSettings({ flags: options });
    const { ensureDaemon } = await import('../../daemon/index.js');
    const { record, started } = await ensureDaemon(settings);
    if (!started) noteUnappliedFlags(settings, record, painter(colorEnabled(process.stderr)));
    process.stdout.write(`${started ? 'started' : 'already running:'} daemon pid ${record.pid}; router on port ${record.proxyPort}${record.tlsPort ? ` (https on ${record.tlsPort})` : ''}; API on ${record.socket}${record.apiPort ? ` and http://127.0.0.1:${record.apiPort}/api/v1 (sign in with paasmaker console, or a token from paasmaker token create)` : ''}\n`);
    return 0;
  },
});
