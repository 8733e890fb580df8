import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MailMessageRow } from '../../shared/mail-views.js';
import { homeLayout } from '../../shared/paths.js';
import { defineCommand } from '../command.js';
import { mailApp, mailPath, readMail, readRaw } from '../mail-reader.js';
import { byteSize, colorEnabled, painter } from '../output.js';
import { fromPlatform } from '../running-platform.js';

type Options = { json?: boolean; dir: string };

export default defineCommand<Options>({
  name: 'mail show',
  description: 'one caught message: its headers and text, its attachments listed, its HTML saved to a file to open',
  arguments: [
    { name: '<id>', description: 'the message id (paasmaker mail lists them)' },
    { name: '[app]', description: 'the app (default: the project in this folder)', completes: 'app' },
  ],
  options: [
    { flags: '--json', description: 'print the message as JSON (headers, addresses, text, attachments; the HTML file as htmlFile)' },
    { flags: '-C, --dir <dir>', description: 'the project folder that names the app', default: '.', completes: 'dir' },
  ],
  examples: ['paasmaker mail show 3f2a9c01', 'paasmaker mail show 3f2a9c01 shop --json'],
  run: ({ args, options }) => mailShow(args[0] as string, args[1] as string | undefined, options),
});

/**
 * The saved file: a page that loads nothing from anywhere (a remote image
 * would tell the sender the message was opened) and shows the message's HTML
 * in a sandboxed frame, so that a meta refresh, a form or a script in it does
 * nothing (a CSP in a <meta> cannot sandbox the page it is in).
 */
export function sandboxedPage(html: string, title: string): string {
  return [
    '<!doctype html>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'">`,
    `<title>${escapeHtml(title)}</title>`,
    '<style>html,body{margin:0;height:100%}iframe{border:0;width:100%;height:100%}</style>',
    `<iframe sandbox referrerpolicy="no-referrer" srcdoc="${escapeHtml(html)}"></iframe>`,
    '',
  ].join('\n');
}

/** Text as HTML shows it, fit for an attribute between double quotes too. */
function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Saves a message's HTML under PAASMAKER_HOME/tmp (0600): the path to open. */
async function saveHtml(app: string, message: MailMessageRow): Promise<string | null> {
  if (!message.html) return null;
  const path = mailPath(app, `/${encodeURIComponent(message.id)}/html`);
  const html = await fromPlatform(
    (socket) => readRaw(socket, path),
    async () => {
      const { MailStore } = await import('../../services/mail-store.js');
      return Buffer.from((await MailStore.of(homeLayout().root).read(app, message.id)).htmlBody ?? '');
    },
  );
  const dir = join(homeLayout().root, 'tmp');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `mail-${app}-${message.id}.html`);
  writeFileSync(file, sandboxedPage(html.toString('utf8'), message.subject || `message ${message.id}`), { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/** `paasmaker mail show ID [APP]`: the message's headers, text and attachments; its HTML saved to open. */
async function mailShow(id: string, name: string | undefined, options: Options): Promise<number> {
  const app = await mailApp(name, options.dir);
  const message = await readMail<MailMessageRow>(
    mailPath(app, `/${encodeURIComponent(id)}`),
    async (store) => {
      const { htmlBody: _html, ...parsed } = await store.read(app, id);
      return parsed;
    },
    app,
  );
  const htmlFile = await saveHtml(app, message);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ ...message, htmlFile }, null, 2)}\n`);
    return 0;
  }
  const paint = painter(colorEnabled());
  const lines = [
    `${paint('bold', 'From:')}    ${message.from}`,
    `${paint('bold', 'To:')}      ${message.to.join(', ')}`,
    ...(message.cc.length > 0 ? [`${paint('bold', 'Cc:')}      ${message.cc.join(', ')}`] : []),
    `${paint('bold', 'Subject:')} ${message.subject}`,
    `${paint('bold', 'Date:')}    ${message.date ?? '-'}  ${paint('gray', `(caught ${message.time}, ${message.service}, ${message.id})`)}`,
    '',
    paint('gray', 'Headers:'),
    ...message.headers.map(([header, value]) => paint('gray', `  ${header}: ${value}`)),
    '',
    message.text?.trimEnd() ?? paint('gray', '(no text part)'),
    '',
  ];
  if (message.attachments.length > 0) {
    lines.push(paint('bold', `Attachments (${message.attachments.length}):`));
    for (const attachment of message.attachments) lines.push(`  ${attachment.name ?? '(no name)'}  ${attachment.type}  ${byteSize(attachment.size)}`);
    lines.push('');
  }
  if (htmlFile) lines.push(`HTML saved to ${htmlFile} (sandboxed, remote content blocked): open it in a browser`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
