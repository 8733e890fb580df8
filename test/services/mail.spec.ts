import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Platform, type MailReceivedEvent } from '../../src/engine/index.js';
import { loadManifest } from '../../src/manifest/index.js';
import { MailStore } from '../../src/services/mail-store.js';
import { tempHome } from '../helpers/cli.js';
import { multipartMessage, sendMail, SmtpSession } from '../helpers/smtp.js';

// The mail catcher in a real platform: real SMTP sockets, real files in a temporary PAASMAKER_HOME.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function platform(home?: string): Promise<{ platform: Platform; home: string }> {
  let dir = home;
  if (!dir) {
    const temp = tempHome();
    dir = temp.home;
    cleanups.push(temp.cleanup);
  }
  const opened = await Platform.open({ home: dir, keeper: false });
  cleanups.push(() => opened.close());
  return { platform: opened, home: dir };
}

function project(services: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-mail-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'paasmaker.yml'), `application: {name: shop}\ninstances:\n  web: {command: "true"}\nservices:\n${services}\n`);
  return dir;
}

const mode = (path: string) => statSync(path).mode & 0o777;

describe('the mail catcher', () => {
  it('takes a message sent with AUTH, files it under PAASMAKER_HOME (0700/0600), lists and parses it, and announces it on the event stream', async () => {
    const { platform: pm, home } = await platform();
    const env = await pm.provisionServices(loadManifest(project('  mail: {plugin: mail}')));
    expect(env.SMTP_HOST).toBe('127.0.0.1');
    expect(Number(env.SMTP_PORT)).toBeGreaterThan(0);
    expect(env.SMTP_USER).toBe('shop');
    expect(env.SMTP_PASSWORD).toMatch(/^[0-9a-f]{64}$/);
    expect(env.MAIL_URL).toBe(`smtp://shop:${env.SMTP_PASSWORD}@127.0.0.1:${env.SMTP_PORT}`);
    const secret = join(home, 'secrets', 'mail', readdirSync(join(home, 'secrets', 'mail'))[0]!);
    expect(mode(secret)).toBe(0o600);

    const events: MailReceivedEvent[] = [];
    pm.on('mail.received', (event) => events.push(event));
    const message = multipartMessage({
      from: 'Shop <noreply@shop.test>',
      to: 'ana@example.test',
      subject: 'Welcome to the shop',
      text: 'Hello Ana, thanks for signing up.',
      html: '<p>Hello <b>Ana</b>, thanks for signing up.</p><img src="https://tracker.example/pixel.gif">',
      attachment: { name: 'terms.txt', type: 'text/plain', content: 'the terms' },
    });
    const reply = await sendMail(Number(env.SMTP_PORT), { from: 'noreply@shop.test', to: ['ana@example.test', 'bcc@example.test'], data: message, user: env.SMTP_USER, password: env.SMTP_PASSWORD });
    expect(reply.code, reply.text).toBe(250);

    const store = MailStore.of(home);
    const [row] = await store.list('shop');
    expect(row).toMatchObject({ app: 'shop', service: 'mail', subject: 'Welcome to the shop', from: '"Shop" <noreply@shop.test>', to: ['ana@example.test', 'bcc@example.test'], attachments: 1 });
    expect(row!.id).toMatch(/^[0-9a-f]{8}$/);
    expect(reply.text).toContain(row!.id);
    expect(events).toEqual([{ app: 'shop', service: 'mail', id: row!.id, subject: 'Welcome to the shop', from: row!.from }]);

    const dir = join(home, 'mail', 'shop', 'mail');
    expect(mode(join(home, 'mail', 'shop'))).toBe(0o700);
    expect(mode(dir)).toBe(0o700);
    expect(mode(join(dir, `${row!.id}.eml`))).toBe(0o600);
    expect(mode(join(dir, 'index.json'))).toBe(0o600);

    // The index keeps what the detail view shows (HTML or not, the attachments) and the start of the text; a listing shows neither of the first two.
    expect(JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'))[0]).toMatchObject({ id: row!.id, html: true, parts: [{ name: 'terms.txt', type: 'text/plain', size: 9 }], text: 'Hello Ana, thanks for signing up.' });
    expect(row).not.toHaveProperty('parts');
    expect(row).not.toHaveProperty('html');

    const parsed = await store.read('shop', row!.id);
    expect(parsed.text?.trim()).toBe('Hello Ana, thanks for signing up.');
    expect(parsed.html).toBe(true);
    expect(parsed.htmlBody).toContain('<b>Ana</b>');
    expect(parsed.attachments).toEqual([{ name: 'terms.txt', type: 'text/plain', size: 9 }]);
    expect(parsed.headers).toContainEqual(['Subject', 'Welcome to the shop']);
    expect(parsed.date).toBe('2026-11-30T07:00:00.000Z');
    expect((await store.raw('shop', row!.id)).toString()).toContain('Subject: Welcome to the shop');
  });

  it('refuses a message without AUTH (530) or with a wrong password (535) when the app was given one, and one over 25 MB (552)', async () => {
    const { platform: pm, home } = await platform();
    const env = await pm.provisionServices(loadManifest(project('  mail: {plugin: mail}')));
    const port = Number(env.SMTP_PORT);
    const data = 'Subject: hi\r\n\r\nhello\r\n';
    const anonymous = await sendMail(port, { from: 'a@b.test', to: ['c@d.test'], data });
    expect(anonymous.code).toBe(530);
    const wrong = await sendMail(port, { from: 'a@b.test', to: ['c@d.test'], data, user: 'shop', password: 'not-it' });
    expect(wrong.code).toBe(535);
    const huge = await sendMail(port, { from: 'a@b.test', to: ['c@d.test'], data: `Subject: big\r\n\r\n${'x'.repeat(998)}\r\n`.repeat(1) + `${'y'.repeat(76)}\r\n`.repeat(27 * 13_500), user: 'shop', password: env.SMTP_PASSWORD });
    expect(huge.code).toBe(552);
    expect(huge.text).toMatch(/at most 25 MB/);
    // The session goes on after a refusal; STARTTLS is not offered (loopback only, AUTH in the clear is allowed).
    const { session } = await SmtpSession.open(port);
    const ehlo = await session.command('EHLO x');
    session.close();
    expect(ehlo.text).toMatch(/AUTH PLAIN LOGIN/);
    expect(ehlo.text).not.toMatch(/STARTTLS/);
    expect(await MailStore.of(home).list('shop')).toEqual([]);
  }, 60_000);

  it('password: false gives no credentials and takes mail without AUTH; keep: N drops the oldest first', async () => {
    const { platform: pm, home } = await platform();
    const env = await pm.provisionServices(loadManifest(project('  outbox: {plugin: mail, password: false, keep: 3}')));
    expect(env.SMTP_USER).toBeUndefined();
    expect(env.SMTP_PASSWORD).toBeUndefined();
    expect(env.OUTBOX_URL).toBe(`smtp://127.0.0.1:${env.SMTP_PORT}`);
    expect(env.MAIL_URL).toBe(env.OUTBOX_URL);
    for (let n = 1; n <= 5; n++) {
      const reply = await sendMail(Number(env.SMTP_PORT), { from: 'a@b.test', to: ['c@d.test'], data: `Subject: message ${n}\r\n\r\nbody ${n}\r\n` });
      expect(reply.code, reply.text).toBe(250);
    }
    const rows = await MailStore.of(home).list('shop', 'outbox');
    expect(rows.map((row) => row.subject)).toEqual(['message 5', 'message 4', 'message 3']);
    expect(readdirSync(join(home, 'mail', 'shop', 'outbox')).filter((name) => name.endsWith('.eml'))).toHaveLength(3);
  });

  it('a manifest that turns the password off gets the same port, now taking mail without AUTH', async () => {
    const { platform: pm } = await platform();
    const dir = project('  mail: {plugin: mail}');
    const first = await pm.provisionServices(loadManifest(dir));
    writeFileSync(join(dir, 'paasmaker.yml'), `application: {name: shop}\ninstances:\n  web: {command: "true"}\nservices:\n  mail: {plugin: mail, password: false}\n`);
    const second = await pm.provisionServices(loadManifest(dir));
    expect(second.SMTP_PORT).toBe(first.SMTP_PORT);
    expect(second.SMTP_PASSWORD).toBeUndefined();
    expect((await sendMail(Number(second.SMTP_PORT), { from: 'a@b.test', to: ['c@d.test'], data: 'Subject: open\r\n\r\nx\r\n' })).code).toBe(250);
  });

  it('refuses an option it does not take, or a keep below 1, at its line in the manifest', async () => {
    const { platform: pm } = await platform();
    await expect(pm.provisionServices(loadManifest(project('  mail: {plugin: mail, keep: 0}')))).rejects.toThrow(/paasmaker\.yml:5:\d+: services\.mail \(mail\): keep: /);
    await expect(pm.provisionServices(loadManifest(project('  mail: {plugin: mail, pasword: false}')))).rejects.toThrow(/unknown option "pasword"/);
  });

  it('listens on the same port after the platform restarts (another when that one is taken), and destroy drops the service’s mail', async () => {
    const { platform: first, home } = await platform();
    const manifest = loadManifest(project('  mail: {plugin: mail}'));
    const before = await first.provisionServices(manifest);
    expect((await sendMail(Number(before.SMTP_PORT), { from: 'a@b.test', to: ['c@d.test'], data: 'Subject: kept\r\n\r\nx\r\n', user: 'shop', password: before.SMTP_PASSWORD })).code).toBe(250);
    await first.close();
    const { platform: second } = await platform(home);
    const after = await second.provisionServices(manifest);
    expect(after.SMTP_PORT).toBe(before.SMTP_PORT);
    expect(after.SMTP_PASSWORD).toBe(before.SMTP_PASSWORD);
    expect((await MailStore.of(home).list('shop')).map((row) => row.subject)).toEqual(['kept']);
    await second.close();
    // The port taken by another program meanwhile: another one, kept for next time.
    const stranger = createServer();
    await new Promise<void>((resolve) => stranger.listen(Number(before.SMTP_PORT), '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => stranger.close(() => resolve())));
    const { platform: third } = await platform(home);
    const moved = await third.provisionServices(manifest);
    expect(moved.SMTP_PORT).not.toBe(before.SMTP_PORT);
    expect(JSON.parse(readFileSync(join(home, 'mail', 'shop', 'mail', 'listener.json'), 'utf8'))).toEqual({ port: Number(moved.SMTP_PORT) });
    await third.services.destroy(third.services.list('shop')[0]!);
    expect(await MailStore.of(home).list('shop')).toEqual([]);
    await expect(SmtpSession.open(Number(moved.SMTP_PORT))).rejects.toThrow(/ECONNREFUSED/);
  });

  it('two provisions of one service at once start one server, and after destroy nothing listens on its port', async () => {
    const { platform: pm, home } = await platform();
    const manifest = loadManifest(project('  mail: {plugin: mail}'));
    const [a, b, c] = await Promise.all([pm.provisionServices(manifest), pm.provisionServices(manifest), pm.provisionServices(manifest)]);
    expect(new Set([a.SMTP_PORT, b.SMTP_PORT, c.SMTP_PORT]).size).toBe(1);
    expect(JSON.parse(readFileSync(join(home, 'mail', 'shop', 'mail', 'listener.json'), 'utf8'))).toEqual({ port: Number(a.SMTP_PORT) });
    expect((await sendMail(Number(a.SMTP_PORT), { from: 'a@b.test', to: ['c@d.test'], data: 'Subject: one\r\n\r\nx\r\n', user: 'shop', password: a.SMTP_PASSWORD })).code).toBe(250);
    await pm.services.destroy(pm.services.list('shop')[0]!);
    await expect(SmtpSession.open(Number(a.SMTP_PORT))).rejects.toThrow(/ECONNREFUSED/);
    expect(existsSync(join(home, 'mail', 'shop', 'mail'))).toBe(false);
  });

  it('a message arriving while the service is destroyed is not left behind: the folder stays gone', async () => {
    const { platform: pm, home } = await platform();
    const env = await pm.provisionServices(loadManifest(project('  mail: {plugin: mail, password: false}')));
    const { session } = await SmtpSession.open(Number(env.SMTP_PORT));
    cleanups.push(() => session.close());
    await session.command('EHLO x');
    await session.command('MAIL FROM:<a@b.test>');
    await session.command('RCPT TO:<c@d.test>');
    // A large message (parsing it takes a while), its final dot sent as the service is destroyed.
    const big = `Subject: late\r\n\r\n${`${'z'.repeat(76)}\r\n`.repeat(100_000)}`;
    expect((await session.command('DATA')).code).toBe(354);
    const reply = session.command(`${big}.`).catch((error: Error) => ({ code: 0, text: error.message }));
    await pm.services.destroy(pm.services.list('shop')[0]!);
    // Caught and then dropped with the service (250), or refused (421): either way nothing is kept.
    expect([250, 421]).toContain((await reply).code);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(existsSync(join(home, 'mail', 'shop', 'mail'))).toBe(false);
    expect(readdirSync(join(home, 'mail', '.incoming'))).toEqual([]);

    // The same at the store: a drop waits for the message being filed, and one after it is refused.
    const store = MailStore.of(home);
    store.open('shop', 'mail'); // provisioned again
    const file = store.incomingFile();
    writeFileSync(file, big);
    const filing = store.add('shop', 'mail', file, { from: 'a@b.test', to: ['c@d.test'] });
    const dropping = store.drop('shop', 'mail');
    expect((await filing).subject).toBe('late');
    await dropping;
    expect(existsSync(join(home, 'mail', 'shop', 'mail'))).toBe(false);
    const after = store.incomingFile();
    writeFileSync(after, 'Subject: later\r\n\r\nx\r\n');
    await expect(store.add('shop', 'mail', after, { from: 'a@b.test', to: ['c@d.test'] })).rejects.toThrow(/the mail service shop\/mail was destroyed/);
    expect(existsSync(join(home, 'mail', 'shop', 'mail'))).toBe(false);
    expect(existsSync(after)).toBe(false);
  }, 60_000);

  it(`takes at most ${10} connections at once: the next is told 421 to come back`, async () => {
    const { platform: pm } = await platform();
    const env = await pm.provisionServices(loadManifest(project('  mail: {plugin: mail}')));
    const sessions: SmtpSession[] = [];
    cleanups.push(() => sessions.forEach((session) => session.close()));
    for (let n = 0; n < 10; n++) {
      const { session, greeting } = await SmtpSession.open(Number(env.SMTP_PORT));
      sessions.push(session);
      expect(greeting.code).toBe(220);
    }
    const { session, greeting } = await SmtpSession.open(Number(env.SMTP_PORT));
    sessions.push(session);
    expect(greeting.code).toBe(421);
  });

  it('writes a message to a private file as it arrives, not to memory, and leaves none behind after a refusal', async () => {
    const { platform: pm, home } = await platform();
    const env = await pm.provisionServices(loadManifest(project('  mail: {plugin: mail, password: false}')));
    const huge = await sendMail(Number(env.SMTP_PORT), { from: 'a@b.test', to: ['c@d.test'], data: `Subject: big\r\n\r\n${`${'y'.repeat(76)}\r\n`.repeat(27 * 13_500)}` });
    expect(huge.code).toBe(552);
    expect((await sendMail(Number(env.SMTP_PORT), { from: 'a@b.test', to: ['c@d.test'], data: 'Subject: small\r\n\r\nx\r\n' })).code).toBe(250);
    expect(mode(join(home, 'mail', '.incoming'))).toBe(0o700);
    expect(readdirSync(join(home, 'mail', '.incoming'))).toEqual([]);
    expect((await MailStore.of(home).list('shop')).map((row) => row.subject)).toEqual(['small']);
  }, 60_000);

  it('shows an inline image (cid:) of the HTML as a data: URL, and lists it as an attachment', async () => {
    const { platform: pm, home } = await platform();
    const env = await pm.provisionServices(loadManifest(project('  mail: {plugin: mail, password: false}')));
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
    const data = [
      'From: shop@b.test',
      'To: c@d.test',
      'Subject: logo',
      'MIME-Version: 1.0',
      'Content-Type: multipart/related; boundary="rel"',
      '',
      '--rel',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p>Our logo: <img src="cid:logo@shop"></p>',
      '--rel',
      'Content-Type: image/png',
      'Content-ID: <logo@shop>',
      'Content-Disposition: inline; filename="logo.png"',
      'Content-Transfer-Encoding: base64',
      '',
      png.toString('base64'),
      '--rel--',
      '',
    ].join('\r\n');
    expect((await sendMail(Number(env.SMTP_PORT), { from: 'shop@b.test', to: ['c@d.test'], data })).code).toBe(250);
    const store = MailStore.of(home);
    const [row] = await store.list('shop');
    const message = await store.read('shop', row!.id);
    expect(message.htmlBody).toContain(`<img src="data:image/png;base64,${png.toString('base64')}">`);
    expect(message.attachments).toEqual([{ name: 'logo.png', type: 'image/png', size: png.length }]);
  });

  it('rebuilds a torn index.json from the messages and says so; keep is at most 5000; a listing takes a limit', async () => {
    const { platform: pm, home } = await platform();
    await expect(pm.provisionServices(loadManifest(project('  mail: {plugin: mail, keep: 5001}')))).rejects.toThrow(/keep: /);
    const env = await pm.provisionServices(loadManifest(project('  mail: {plugin: mail, password: false}')));
    for (const subject of ['first', 'second', 'third']) {
      expect((await sendMail(Number(env.SMTP_PORT), { from: 'a@b.test', to: ['c@d.test'], data: `From: Shop <shop@b.test>\r\nTo: ana@d.test\r\nSubject: ${subject}\r\n\r\nx\r\n` })).code).toBe(250);
      await new Promise((resolve) => setTimeout(resolve, 20)); // distinct modification times: the order the index is rebuilt in
    }
    const store = MailStore.of(home);
    expect(MailStore.of(home)).toBe(store); // one store per home: the API and the plugin share its write queue
    const before = await store.list('shop');
    expect((await store.list('shop', undefined, 2)).map((row) => row.subject)).toEqual(['third', 'second']);
    const lines: string[] = [];
    pm.on('log.line', (event) => lines.push(event.line));
    writeFileSync(join(home, 'mail', 'shop', 'mail', 'index.json'), '[{"id": "torn');
    const after = await store.list('shop');
    expect(after.map((row) => [row.id, row.subject, row.from, row.to])).toEqual(before.map((row) => [row.id, row.subject, '"Shop" <shop@b.test>', ['ana@d.test']]));
    expect(lines).toContainEqual(expect.stringMatching(/mail of shop\/mail: its index\.json could not be read; rebuilt from the 3 message\(s\)/));
    expect(JSON.parse(readFileSync(join(home, 'mail', 'shop', 'mail', 'index.json'), 'utf8'))).toHaveLength(3);
    // The next message joins the rebuilt index.
    expect((await sendMail(Number(env.SMTP_PORT), { from: 'a@b.test', to: ['c@d.test'], data: 'Subject: fourth\r\n\r\nx\r\n' })).code).toBe(250);
    expect((await store.list('shop')).map((row) => row.subject)).toEqual(['fourth', 'third', 'second', 'first']);
  });
});
