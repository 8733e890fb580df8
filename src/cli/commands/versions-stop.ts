import type { VersionRow } from '../../api/index.js';
import { defineCommand } from '../command.js';
import { segment, versionNumber, versionsApi } from '../versions-api.js';

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
    process.stdout.write(`${app} v${row.version}: ${row.state}${row.url && row.state !== 'stopped' ? ` on ${row.url}` : ''}\n`);
    return 0;
  },
});
