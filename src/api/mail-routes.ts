import { z } from 'zod';
import { MailStore, MAX_KEEP } from '../services/mail-store.js';
import { PaasmakerError } from '../shared/errors.js';
import { MAIL_LIST_LIMIT } from '../shared/limits.js';
import { MailClearedSchema, MailMessageSchema, MailRowSchema, type MailCleared, type MailMessageRow, type MailRow } from '../shared/mail-views.js';
import { appRecord, RawAnswer, type ApiContext, type Route } from './route.js';

/**
 * What a caught message's HTML may do in a browser: show itself with its own
 * styles and inline images, nothing more (no script, no remote image that
 * tells the sender it was opened, no form, no frame of ours), and only
 * inside the console's own pages (frame-ancestors).
 */
export const MAIL_HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox";

const MailListQuerySchema = z.strictObject({
  service: z.string().max(200).optional().describe("only this mail service's messages"),
  limit: z.coerce.number().int().min(1).max(MAX_KEEP).optional().describe(`the newest this many (default ${MAIL_LIST_LIMIT})`),
});
const MailClearRequestSchema = z.strictObject({
  confirm: z.string().optional().describe("the app's name: clearing deletes its caught messages"),
  service: z.string().max(200).optional().describe("only this mail service's messages"),
});

/** The platform's one store (MailStore.of keeps one per home): its write queues are the mail plugin's. */
const storeOf = (context: ApiContext) => MailStore.of(context.platform.layout.root);
const appOf = (context: ApiContext, params: Record<string, string>) => appRecord(context, params.app!).name;

/** The mail catcher's messages of an app: read with SERVICE_VIEW (they are what the app sends), cleared with APPLICATION_DEPLOY. */
export const MAIL_ROUTES: Route[] = [
  {
    method: 'GET',
    path: '/api/v1/apps/:app/mail',
    permission: 'SERVICE_VIEW',
    scope: 'app',
    summary: `The messages the app's mail services caught, newest first (as paasmaker mail --json), the newest ${MAIL_LIST_LIMIT} unless ?limit= says otherwise; ?service= keeps one service's. New ones arrive on the event stream as mail.received`,
    query: MailListQuerySchema,
    response: z.array(MailRowSchema),
    handle: (context, params, _body, query: z.infer<typeof MailListQuerySchema>): Promise<MailRow[]> => storeOf(context).list(appOf(context, params), query.service, query.limit ?? MAIL_LIST_LIMIT),
  },
  {
    method: 'GET',
    path: '/api/v1/apps/:app/mail/:id',
    permission: 'SERVICE_VIEW',
    scope: 'app',
    summary: 'One caught message, parsed: headers, from, to, cc, subject, date, the text, whether it has HTML (…/html serves it), its attachments (name, type, size)',
    response: MailMessageSchema,
    handle: async (context, params): Promise<MailMessageRow> => {
      const { htmlBody: _html, ...message } = await storeOf(context).read(appOf(context, params), params.id!);
      return message;
    },
  },
  {
    method: 'GET',
    path: '/api/v1/apps/:app/mail/:id/html',
    permission: 'SERVICE_VIEW',
    scope: 'app',
    summary: `A caught message's HTML body, under a Content-Security-Policy that loads nothing from anywhere (${MAIL_HTML_CSP}): show it in an <iframe sandbox>`,
    produces: { type: 'text/html', description: "the message's HTML, served so that nothing in it runs or loads: a Content-Security-Policy that allows no script and no remote content, and a sandbox" },
    response: z.string(),
    handle: async (context, params) => {
      const message = await storeOf(context).read(appOf(context, params), params.id!);
      if (message.htmlBody === null) throw new PaasmakerError('MAIL_NOT_FOUND', `message ${message.id} has no HTML body`, { hint: `its text: GET /api/v1/apps/${message.app}/mail/${message.id}` });
      return new RawAnswer(message.htmlBody, 'text/html; charset=utf-8', { 'content-security-policy': MAIL_HTML_CSP, 'referrer-policy': 'no-referrer', 'cross-origin-resource-policy': 'same-origin' });
    },
  },
  {
    method: 'GET',
    path: '/api/v1/apps/:app/mail/:id/raw',
    permission: 'SERVICE_VIEW',
    scope: 'app',
    summary: 'A caught message as the app sent it (message/rfc822: headers and body, as an .eml file)',
    produces: { type: 'message/rfc822', description: 'the message as it was received' },
    response: z.string(),
    handle: async (context, params) => {
      const app = appOf(context, params);
      return new RawAnswer(await storeOf(context).raw(app, params.id!), 'message/rfc822', { 'content-disposition': `attachment; filename="${app}-${params.id!.replace(/[^0-9a-f]/g, '')}.eml"` });
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/apps/:app/mail',
    permission: 'APPLICATION_DEPLOY',
    scope: 'app',
    summary: 'Delete the messages the app\'s mail services caught: the body must name the app ({"confirm": "<app>"}); "service" keeps the others',
    request: MailClearRequestSchema,
    response: MailClearedSchema,
    handle: async (context, params, request): Promise<MailCleared> => {
      const body = request as z.infer<typeof MailClearRequestSchema>;
      const app = appOf(context, params);
      if (body.confirm !== app) {
        throw new PaasmakerError('CONFIRMATION_NEEDED', `clearing deletes ${app}'s caught messages${body.confirm === undefined ? '' : `; "${body.confirm}" is not its name`}`, { hint: `send the app's name to confirm: {"confirm": "${app}"}` });
      }
      return { app, deleted: await storeOf(context).clear(app, body.service) };
    },
  },
];
