import { PaasmakerError } from '../../shared/errors.js';
import { defineCommand } from '../command.js';
import { segment, versionsApi } from '../versions-api.js';

/** What POST /api/v1/apps/{app}/versions/prune answers (PruneResultSchema in src/api/requests.ts). */
interface PruneResult {
  removed: number[];
}

export default defineCommand<{ keep: string }>({
  name: 'versions prune',
  description: 'remove old versions of an app and their code: all but the newest N, never the current or the previous one',
  arguments: [{ name: '<app>', description: 'the app', completes: 'app' }],
  options: [{ flags: '--keep <n>', description: 'how many of the newest versions to keep', default: '5' }],
  examples: ['paasmaker versions prune shop --keep 3'],
  run: ({ args, options }) => prune(args[0] as string, options.keep),
});

/** `paasmaker versions prune APP --keep N`. */
async function prune(app: string, keepText: string): Promise<number> {
  if (!/^\d+$/.test(keepText) || Number(keepText) > 1000) throw new PaasmakerError('USAGE', `--keep ${keepText}: a number of versions, 0 to 1000`, { hint: 'paasmaker versions prune APP --keep 5' });
  const { removed } = await versionsApi<PruneResult>('POST', `/api/v1/apps/${segment(app)}/versions/prune`, { keep: Number(keepText) });
  process.stdout.write(removed.length === 0 ? `nothing to remove: ${app} keeps every version\n` : `removed ${removed.map((n) => `v${n}`).join(', ')} of ${app}\n`);
  return 0;
}
