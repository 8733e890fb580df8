import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { callApi, runningDaemon, type AppRow } from '../../api/index.js';
import { homeLayout } from '../../shared/paths.js';
import { defineCommand } from '../command.js';

export default defineCommand({
  name: 'down',
  description: 'stop a project started with paasmaker up (from any terminal)',
  arguments: [{ name: '[dir]', description: 'project folder, or an app name', default: '.', completes: 'app-or-dir' }],
  examples: [
    'paasmaker down          stop the project in this folder',
    'paasmaker down shop     stop the app named shop, wherever it runs',
    '                        (a development up of a deployed app stops first: its current version answers again; a second down stops that)',
  ],
  run: ({ args }) => down(args[0] as string),
});

/** `paasmaker down [DIR|APP]`: stops a project wherever it runs. */
async function down(target: string): Promise<number> {
  const path = resolve(target);
  const name = existsSync(path) && statSync(path).isDirectory() ? (await import('../../manifest/index.js')).loadManifest(path).application.name : target;
  // The daemon stops it wherever it runs: its own, a foreground up's (asked
  // to stop), or what a dead paasmaker left (reaped).
  const daemon = runningDaemon(homeLayout().root);
  if (daemon) {
    const path = `/api/v1/apps/${encodeURIComponent(name)}`;
    const before = await callApi<AppRow>(daemon.socket, 'GET', path);
    // A development up over a deployed version: the up stops, the current version answers again.
    if (before.servedBy === 'dev' && before.version !== null) {
      const after = await callApi<AppRow>(daemon.socket, 'POST', `${path}/down`, { dev: true });
      const back = after.servedBy === 'version' ? `; v${after.version} answers ${name}.localhost again` : '';
      process.stdout.write(`stopped the development up of ${name}${back} (paasmaker down ${name} again stops it too)\n`);
      return 0;
    }
    await callApi(daemon.socket, 'POST', `${path}/down`, {});
    process.stdout.write(before.state === 'stopped' && before.servedBy === null ? `${name} was not running\n` : `stopped ${name}\n`);
    return 0;
  }
  // No daemon: a platform of its own, to reap what a dead paasmaker left behind.
  const { Platform } = await import('../../engine/index.js');
  const platform = await Platform.open({ keeper: false });
  try {
    const result = await platform.down(name);
    process.stdout.write(result === 'stopped' ? `stopped ${name}\n` : `${name} was not running\n`);
    return 0;
  } finally {
    await platform.close();
  }
}
