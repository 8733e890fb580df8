import type { MailCleared } from '../../shared/mail-views.js';
import { PaasmakerError } from '../../shared/errors.js';
import { callApi } from '../../api/index.js';
import { defineCommand } from '../command.js';
import { mailApp, mailPath, offlineStore } from '../mail-reader.js';
import { fromPlatform } from '../running-platform.js';

type Options = { yes?: boolean; dir: string; service?: string };

export default defineCommand<Options>({
  name: 'mail clear',
  description: 'delete the e-mail an app sent to its mail services (never without --yes)',
  arguments: [{ name: '[app]', description: 'the app (default: the project in this folder)', completes: 'app' }],
  options: [
    { flags: '--yes', description: 'delete them (without it, nothing is deleted)' },
    { flags: '--service <name>', description: "only this mail service's messages" },
    { flags: '-C, --dir <dir>', description: 'the project folder that names the app', default: '.', completes: 'dir' },
  ],
  examples: ['paasmaker mail clear --yes          the project here', 'paasmaker mail clear shop --service outbox --yes'],
  run: ({ args, options }) => mailClear(args[0] as string | undefined, options),
});

/**
 * `paasmaker mail clear [APP] --yes`: deletes the messages the app's mail
 * services caught, through the running platform (its store's write queue);
 * with none running, the files under PAASMAKER_HOME.
 */
async function mailClear(name: string | undefined, options: Options): Promise<number> {
  const app = await mailApp(name, options.dir);
  const what = options.service ? `${app}'s mail in its service ${options.service}` : `${app}'s caught mail`;
  if (!options.yes) {
    throw new PaasmakerError('CONFIRMATION_NEEDED', `clearing deletes ${what}`, { hint: `add --yes to confirm: paasmaker mail clear ${app}${options.service ? ` --service ${options.service}` : ''} --yes` });
  }
  const cleared = await fromPlatform(
    (socket) => callApi<MailCleared>(socket, 'DELETE', mailPath(app), { confirm: app, ...(options.service ? { service: options.service } : {}) }),
    async () => ({ app, deleted: await (await offlineStore(app)).clear(app, options.service) }),
  );
  process.stdout.write(`Deleted ${cleared.deleted} message(s) of ${what}.\n`);
  return 0;
}
