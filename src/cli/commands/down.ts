import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Platform } from '../../engine/index.js';
import { loadManifest } from '../../manifest/index.js';
import { callApi, runningDaemon, type AppRow } from '../../api/index.js';
import { homeLayout } from '../../shared/paths.js';

/** `paasmaker down [DIR|APP]`: stops a project wherever it runs. */
export async function down(target: string): Promise<number> {
  const path = resolve(target);
  const name = existsSync(path) && statSync(path).isDirectory() ? loadManifest(path).application.name : target;
  // An app the daemon runs is stopped by the daemon.
  const home = homeLayout().root;
  const daemon = runningDaemon(home);
  if (daemon) {
    const owner = (await callApi<AppRow[]>(daemon.socket, 'GET', '/api/v1/apps')).find((app) => app.name === name);
    if (owner && owner.ownerPid === daemon.pid) {
      await callApi(daemon.socket, 'POST', `/api/v1/apps/${encodeURIComponent(name)}/down`, {});
      process.stdout.write(`stopped ${name}\n`);
      return 0;
    }
  }
  const platform = await Platform.open({ keeper: false });
  try {
    const result = await platform.down(name);
    process.stdout.write(result === 'stopped' ? `stopped ${name}\n` : `${name} was not running\n`);
    return 0;
  } finally {
    await platform.close();
  }
}
