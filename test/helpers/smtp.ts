import { connect, type Socket } from 'node:net';

/** An SMTP reply: its code and its text (the lines of a multi-line reply joined). */
export interface SmtpReply {
  code: number;
  text: string;
}

/** A plain SMTP session over a real socket, as an app's mail library speaks it (no TLS: loopback). */
export class SmtpSession {
  private buffer = '';
  private waiting: Array<(reply: SmtpReply) => void> = [];
  private replies: SmtpReply[] = [];
  private lines: string[] = [];

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let end: number;
      while ((end = this.buffer.indexOf('\r\n')) >= 0) {
        const line = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        this.lines.push(line.slice(4));
        if (line[3] === '-') continue;
        const reply = { code: Number(line.slice(0, 3)), text: this.lines.join('\n') };
        this.lines = [];
        const next = this.waiting.shift();
        if (next) next(reply);
        else this.replies.push(reply);
      }
    });
  }

  static async open(port: number, host = '127.0.0.1'): Promise<{ session: SmtpSession; greeting: SmtpReply }> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const socket = connect({ port, host }, () => resolve(socket));
      socket.once('error', reject);
    });
    const session = new SmtpSession(socket);
    return { session, greeting: await session.reply() };
  }

  reply(): Promise<SmtpReply> {
    const ready = this.replies.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      this.waiting.push(resolve);
      setTimeout(() => reject(new Error('no SMTP reply within 10 s')), 10_000).unref();
    });
  }

  /** Sends one command line and reads its reply. */
  async command(line: string): Promise<SmtpReply> {
    this.socket.write(`${line}\r\n`);
    return this.reply();
  }

  /** DATA, the message (dot-stuffed), and the final dot: the reply to the message. */
  async data(message: string): Promise<SmtpReply> {
    const go = await this.command('DATA');
    if (go.code !== 354) return go;
    const body = message.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
    this.socket.write(`${body}${body.endsWith('\r\n') ? '' : '\r\n'}.\r\n`);
    return this.reply();
  }

  close(): void {
    this.socket.end('QUIT\r\n');
    this.socket.destroy();
  }
}

/**
 * Sends one message: EHLO, AUTH PLAIN when given credentials, MAIL FROM,
 * RCPT TO each, DATA. Answers the reply that ended it (250 when taken; the
 * refusal otherwise: 530 without AUTH, 535 for a wrong password, 552 too big).
 */
export async function sendMail(port: number, message: { from: string; to: string[]; data: string; user?: string; password?: string }): Promise<SmtpReply> {
  const { session } = await SmtpSession.open(port);
  try {
    const steps: string[] = [];
    await session.command('EHLO test.localhost');
    if (message.user !== undefined) steps.push(`AUTH PLAIN ${Buffer.from(`\0${message.user}\0${message.password ?? ''}`).toString('base64')}`);
    steps.push(`MAIL FROM:<${message.from}>`, ...message.to.map((to) => `RCPT TO:<${to}>`));
    for (const step of steps) {
      const reply = await session.command(step);
      if (reply.code >= 400) return reply;
    }
    return await session.data(message.data);
  } finally {
    session.close();
  }
}

/** A message with a text part, an HTML part and an attachment, as mail libraries build them. */
export function multipartMessage(options: { from: string; to: string; subject: string; text: string; html: string; attachment?: { name: string; type: string; content: string } }): string {
  const boundary = 'pm-boundary-1';
  const parts = [
    `--${boundary}`,
    'Content-Type: multipart/alternative; boundary="pm-alt-1"',
    '',
    '--pm-alt-1',
    'Content-Type: text/plain; charset=utf-8',
    '',
    options.text,
    '--pm-alt-1',
    'Content-Type: text/html; charset=utf-8',
    '',
    options.html,
    '--pm-alt-1--',
  ];
  if (options.attachment) {
    parts.push(`--${boundary}`, `Content-Type: ${options.attachment.type}; name="${options.attachment.name}"`, `Content-Disposition: attachment; filename="${options.attachment.name}"`, 'Content-Transfer-Encoding: base64', '', Buffer.from(options.attachment.content).toString('base64'));
  }
  parts.push(`--${boundary}--`);
  return [`From: ${options.from}`, `To: ${options.to}`, `Subject: ${options.subject}`, 'Date: Mon, 30 Nov 2026 07:00:00 +0000', 'MIME-Version: 1.0', `Content-Type: multipart/mixed; boundary="${boundary}"`, '', ...parts, ''].join('\r\n');
}
