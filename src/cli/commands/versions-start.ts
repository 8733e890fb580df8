import type { VersionRow } from '../../api/index.js';
import { defineCommand } from '../command.js';
import { segment, versionNumber, versionsApi } from '../versions-api.js';
import { primaryUrl } from '../../shared/app-urls.js';

export default defineCommand({
  name: 'versions start',
  description: 'start a version as a preview: it answers on vN.APP.localhost, not on APP.localhost',
  arguments: [
    { name: '<app>', description: 'the app', completes: 'app' },
    { name: '<version>', description: 'the version number' },
  ],
  examples: ['paasmaker versions start shop 3   then open https://v3.shop.localhost:7655/'],
  run: async ({ args }) => {
    const app = args[0] as string;
    const number = versionNumber(args[1] as string, 'paasmaker versions start APP N (paasmaker versions APP lists them)');
    const row = await versionsApi<VersionRow>('POST', `/api/v1/apps/${segment(app)}/versions/${number}/start`);
    process.stdout.write(`${app} v${row.version}: ${row.state}${primaryUrl(row) && row.state !== 'stopped' ? ` on ${primaryUrl(row)}` : ''}\n`);
    return 0;
  },
});
