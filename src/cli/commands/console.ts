import { spawn } from 'node:child_process';
import { callApi, runningDaemon } from '../../api/index.js';
import { PaasmakerError } from '../../shared/errors.js';
import { homeLayout } from '../../shared/paths.js';
import { defineCommand } from '../command.js';

/** How to open a URL in the user's browser here, or why it cannot be done. */
function browserCommand(env: NodeJS.ProcessEnv = process.env): { command: string; args: string[] } | { none: string } {
  if (env.BROWSER) return { command: env.BROWSER, args: [] };
  if (env.CI === 'true') return { none: 'CI=true' };
  if (process.platform === 'darwin') return { command: 'open', args: [] };
  if (process.platform === 'win32') return { command: 'cmd', args: ['/c', 'start', '""'] };
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return { none: 'no DISPLAY' };
  return { command: 'xdg-open', args: [] };
}

/** Starts the browser on its own (the command does not wait for it); resolves with why it could not, if it could not. */
function openBrowser(url: string): Promise<string | undefined> {
  const how = browserCommand();
  if ('none' in how) return Promise.resolve(how.none);
  return new Promise((resolve) => {
    const child = spawn(how.command, [...how.args, url], { detached: true, stdio: 'ignore' });
    child.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ENOENT' ? `${how.command} is not installed` : error.message));
    child.once('spawn', () => {
      child.unref();
      resolve(undefined);
    });
  });
}

export default defineCommand<{ open?: boolean }>({
  name: 'console',
  description: 'open the web console in the browser, signed in (a one-time link)',
  options: [{ flags: '--no-open', description: 'only print the link' }],
  examples: ['paasmaker console             open the console signed in', 'paasmaker console --no-open   print the one-time sign-in link'],
  run: async ({ options }) => {
    const record = runningDaemon(homeLayout().root);
    if (!record) throw new PaasmakerError('PLATFORM_UNREACHABLE', 'the daemon is not running: the console is served by it', { hint: 'paasmaker daemon start' });
    if (!record.proxyPort) throw new PaasmakerError('PLATFORM_UNREACHABLE', 'the daemon runs no router: the console is served through it', { hint: 'restart it: paasmaker daemon stop && paasmaker daemon start' });
    // The Unix socket's owner is the platform's administrator: it may ask for a link that signs in once.
    const link = await callApi<{ path: string; expiresAt: number | string }>(record.socket, 'POST', '/api/v1/session/links', {}, 10_000);
    const url = `http://paasmaker.localhost:${record.proxyPort}${link.path}`;
    const expires = new Date(typeof link.expiresAt === 'number' ? link.expiresAt : Date.parse(link.expiresAt));
    const until = Number.isNaN(expires.getTime()) ? '' : ` (works once, until ${expires.toLocaleTimeString()})`;
    if (options.open === false) {
      process.stdout.write(`${url}\n`);
      return 0;
    }
    const problem = await openBrowser(url);
    process.stdout.write(problem ? `no browser can be opened here (${problem}); open this link${until}:\n  ${url}\n` : `opening the console in your browser${until}:\n  ${url}\n`);
    return 0;
  },
});
