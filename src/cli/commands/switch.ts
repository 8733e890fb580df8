import type { VersionRow } from '../../api/index.js';
import { defineCommand } from '../command.js';
import { segment, versionNumber, versionsApi } from '../versions-api.js';
import { primaryUrl } from '../../shared/app-urls.js';

export default defineCommand({
  name: 'switch',
  description: "make a version of an app current: its processes start and become ready, then APP.localhost moves to them and the old ones drain (no request fails)",
  arguments: [
    { name: '<app>', description: 'the app', completes: 'app' },
    { name: '<version>', description: 'the version number (paasmaker versions lists them)' },
  ],
  examples: ['paasmaker switch shop 2      shop v2 serves shop.localhost'],
  run: ({ args }) => switchVersion(args[0] as string, args[1] as string),
});

/** What a version command prints once a version is current. */
export function currentLine(row: VersionRow): string {
  const own = primaryUrl(row);
  const main = own?.replace(`//v${row.version}.`, '//');
  if (!row.serving) return `${row.app} v${row.version} is current; a development up of ${row.app} holds ${main ?? `${row.app}.localhost`} while it runs${own ? `: ${own}` : ''}\n`;
  return `${row.app} v${row.version} is current${main ? `: ${main}` : ''}\n`;
}

/** `paasmaker switch APP N`. */
async function switchVersion(app: string, version: string): Promise<number> {
  const number = versionNumber(version, 'paasmaker switch APP N (paasmaker versions APP lists them)');
  const row = await versionsApi<VersionRow>('POST', `/api/v1/apps/${segment(app)}/switch`, { version: number });
  process.stdout.write(currentLine(row));
  return 0;
}
