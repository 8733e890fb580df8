import type { VersionRow } from '../../api/index.js';
import { defineCommand } from '../command.js';
import { segment, versionNumber, versionsApi } from '../versions-api.js';
import { primaryUrl } from '../../shared/app-urls.js';

export default defineCommand({
  name: 'versions stop',
  description: 'stop a running version that does not serve APP.localhost (a preview)',
  arguments: [
    { name: '<app>', description: 'the app', completes: 'app' },
    { name: '<version>', description: 'the version number' },
  ],
  examples: ['paasmaker versions stop shop 3'],
  run: async ({ args }) => {
    const app = args[0] as string;
    const number = versionNumber(args[1] as string, 'paasmaker versions stop APP N (paasmaker versions APP lists them)');
    const row = await versionsApi<VersionRow>('POST', `/api/v1/apps/${segment(app)}/versions/${number}/stop`);
    process.stdout.write(`${app} v${row.version}: ${row.state}${primaryUrl(row) && row.state !== 'stopped' ? ` on ${primaryUrl(row)}` : ''}\n`);
    return 0;
  },
});
