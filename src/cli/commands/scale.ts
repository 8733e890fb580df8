import { readState } from '../read-state.js';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { apiSocketFor, callApi, type RestartResult, type ScaleResult } from '../../api/index.js';
import { loadManifest } from '../../manifest/index.js';
import { PaasmakerError } from '../../shared/errors.js';
import { ownerAlive } from '../../shared/owner.js';
import { homeLayout } from '../../shared/paths.js';

/** The control socket of the `paasmaker up` running an app. */
function controlFor(app: string): string {
  const layout = homeLayout();
  const record = readState((state) => state.apps.get(app));
  if (!record || record.state === 'stopped') throw new PaasmakerError('APP_NOT_FOUND', `app "${app}" is not running`, { hint: 'start it with: paasmaker up [DIR]' });
  if (!ownerAlive(record.ownerPid, record.ownerStart)) {
    throw new PaasmakerError('PLATFORM_UNREACHABLE', `app "${app}" is not running: the paasmaker that ran it (pid ${record.ownerPid}) is gone`, { hint: 'start it again with: paasmaker daemon start, or paasmaker up in the project' });
  }
  return apiSocketFor(layout.root, record.ownerPid!);
}

/** The app named, or the one whose project is the current folder. */
function appName(name: string | undefined, dir: string): string {
  if (name) return name;
  const path = resolve(dir);
  if (existsSync(path) && statSync(path).isDirectory()) return loadManifest(path).application.name;
  throw new PaasmakerError('USAGE', 'which app?', { hint: 'paasmaker scale APP/INSTANCE=N, or run it in the project folder' });
}

/** `paasmaker scale [APP/]INSTANCE=N …`: changes quantities live. */
export async function scale(specs: string[], options: { dir: string }): Promise<number> {
  for (const spec of specs) {
    const match = /^(?:([a-z0-9][a-z0-9-]*)\/)?([a-z][a-z0-9_-]*)=(\d+)$/.exec(spec);
    if (!match) throw new PaasmakerError('USAGE', `"${spec}" is not APP/INSTANCE=N`, { hint: 'for example: paasmaker scale shop/web=3 (or web=3 in the project folder)' });
    const app = appName(match[1], options.dir);
    const result = await callApi<ScaleResult>(controlFor(app), 'POST', `/api/v1/apps/${encodeURIComponent(app)}/scale`, { instance: match[2], quantity: Number(match[3]) });
    process.stdout.write(`${app}/${match[2]}: ${result.from} → ${result.to}\n`);
  }
  return 0;
}

/** `paasmaker restart [APP[/INSTANCE]]`: a rolling restart, like a save. */
export async function restart(target: string | undefined, options: { dir: string }): Promise<number> {
  const match = target === undefined ? undefined : /^([^/]+)(?:\/([^/]+))?$/.exec(target);
  if (target !== undefined && !match) throw new PaasmakerError('USAGE', `"${target}" is not APP or APP/INSTANCE`, { hint: 'for example: paasmaker restart shop/web' });
  const [name, instance] = [match?.[1], match?.[2]];
  const app = appName(name, options.dir);
  const result = await callApi<RestartResult>(controlFor(app), 'POST', `/api/v1/apps/${encodeURIComponent(app)}/restart`, instance ? { instance } : {});
  process.stdout.write(result.ok ? `restarted ${target ?? app}\n` : `the new processes of ${target ?? app} did not start; the old ones still serve (see paasmaker logs)\n`);
  return result.ok ? 0 : 1;
}
