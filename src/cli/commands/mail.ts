import { MAIL_LIST_LIMIT } from '../../shared/limits.js';
import type { MailRow } from '../../shared/mail-views.js';
import { defineCommand } from '../command.js';
import { mailApp, mailPath, readMail } from '../mail-reader.js';
import { table } from '../output.js';
import { PaasmakerError } from '../../shared/errors.js';

type Options = { json?: boolean; dir: string; service?: string; limit: string };

export default defineCommand<Options>({
  name: 'mail',
  description: "the e-mail an app sent to its mail service (the mail catcher): id, time, from, to, subject",
  arguments: [{ name: '[app]', description: 'the app (default: the project in this folder)', completes: 'app' }],
  options: [
    { flags: '--json', description: 'print a JSON array of the messages, newest first (with subject, from, to and the start of the text)' },
    { flags: '--service <name>', description: "only this mail service's messages (an app may have several)" },
    { flags: '-n, --limit <n>', description: 'the newest this many', default: String(MAIL_LIST_LIMIT) },
    { flags: '-C, --dir <dir>', description: 'the project folder that names the app', default: '.', completes: 'dir' },
  ],
  examples: ['paasmaker mail                 the project here', 'paasmaker mail shop --json', 'paasmaker mail shop --service outbox -n 10', 'paasmaker mail show 3f2a9c01    one message: headers, text, its HTML saved to open', 'paasmaker mail clear shop --yes    delete what shop sent'],
  run: ({ args, options }) => mail(args[0] as string | undefined, options),
});

/** Local date and time to the second: what a developer compares with the moment they pressed the button. */
function when(iso: string): string {
  const at = new Date(iso);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())} ${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`;
}

const cut = (text: string, width: number) => (text.length > width ? `${text.slice(0, width - 1)}…` : text);

/** `paasmaker mail [APP]`: the messages the app's mail services caught, newest first. */
async function mail(name: string | undefined, options: Options): Promise<number> {
  const limit = Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new PaasmakerError('USAGE', `--limit ${options.limit} is not a number of messages`, { hint: 'for example: paasmaker mail -n 20' });
  const app = await mailApp(name, options.dir);
  const query = new URLSearchParams({ limit: String(limit), ...(options.service ? { service: options.service } : {}) });
  const rows = await readMail<MailRow[]>(mailPath(app, `?${query}`), (store) => store.list(app, options.service, limit), app);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  if (rows.length === 0) {
    if (options.service) {
      process.stdout.write(`No mail from ${app} in its service ${options.service}.\n`);
      return 0;
    }
    process.stdout.write(`No mail from ${app} yet: give it a mail service (services: {mail: {plugin: mail}}) and send to $SMTP_HOST:$SMTP_PORT.\n`);
    return 0;
  }
  process.stdout.write(table(['id', 'time', 'from', 'to', 'subject'], rows.map((row) => [row.id, when(row.time), cut(row.from, 40), cut(row.to.join(', '), 40), cut(row.subject, 60)])));
  return 0;
}
