import { z } from 'zod';

/** How much of a message's text a listing carries. */
export const MAIL_TEXT_KEPT = 1000;

/**
 * What the mail catcher shows of a message (the API's answers, `paasmaker
 * mail --json`, the console's mail page), declared once beside the other views.
 */
export const MailRowSchema = z
  .object({
    id: z.string().describe('short and stable: GET /api/v1/apps/{app}/mail/{id} reads the message'),
    app: z.string(),
    service: z.string().describe('the mail service of the app that caught it'),
    time: z.string().describe('when the catcher took it, ISO (UTC)'),
    from: z.string().describe('the From header as written (the envelope sender when there is none)'),
    to: z.array(z.string()).describe('the envelope recipients: every address the app sent it to, Bcc included'),
    subject: z.string(),
    size: z.number().int().describe('bytes of the whole message'),
    attachments: z.number().int().describe('how many attachments it carries'),
    text: z.string().describe(`the plain-text body, its first ${MAIL_TEXT_KEPT} characters ('' when it has none; GET …/mail/{id} gives all of it)`),
  })
  .meta({ id: 'Mail' });
export type MailRow = z.infer<typeof MailRowSchema>;

export const MailAttachmentSchema = z
  .object({
    name: z.string().nullable().describe('its file name, when it has one'),
    type: z.string().describe('its Content-Type'),
    size: z.number().int().describe('bytes, decoded'),
  })
  .meta({ id: 'MailAttachment' });

/** One message, parsed: the list's row (its attachments listed), its headers, its text, and whether it has HTML. */
export const MailMessageSchema = MailRowSchema.omit({ attachments: true }).extend({
  headers: z.array(z.tuple([z.string(), z.string()])).describe('[name, value] in the order of the message, values unfolded'),
  cc: z.array(z.string()).describe('the Cc header, an address a string'),
  date: z.string().nullable().describe('the Date header, ISO; null when it has none or it cannot be read'),
  text: z.string().nullable().describe('the plain-text body (from the HTML when it has only HTML)'),
  html: z.boolean().describe('whether it has an HTML body: GET …/mail/{id}/html serves it, sandboxed'),
  attachments: z.array(MailAttachmentSchema).describe('each attachment (inline images included)'),
}).meta({ id: 'MailMessage' });
export type MailMessageRow = z.infer<typeof MailMessageSchema>;

/** What DELETE /api/v1/apps/{app}/mail answers: how many messages it dropped. */
export const MailClearedSchema = z.object({ app: z.string(), deleted: z.number().int() }).meta({ id: 'MailCleared' });
export type MailCleared = z.infer<typeof MailClearedSchema>;
