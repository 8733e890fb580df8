import type { VersionRow } from '../../api/index.js';
import { defineCommand } from '../command.js';
import { segment, versionsApi } from '../versions-api.js';
import { currentLine } from './switch.js';

export default defineCommand({
  name: 'rollback',
  description: 'make the previous version of an app current again (as switch does)',
  arguments: [{ name: '<app>', description: 'the app', completes: 'app' }],
  examples: ['paasmaker rollback shop'],
  run: ({ args }) => rollback(args[0] as string),
});

/** `paasmaker rollback APP`. */
async function rollback(app: string): Promise<number> {
  const row = await versionsApi<VersionRow>('POST', `/api/v1/apps/${segment(app)}/rollback`);
  process.stdout.write(currentLine(row));
  return 0;
}
