import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRequest, examples, runCli, stopDaemonAndRemove, tempHome } from '../helpers/cli.js';
import { multipartMessage, sendMail } from '../helpers/smtp.js';
import { browserMissing, launchBrowser, screenshots } from './browser.js';

// The mail page of the web console, in Debian's Chromium, against a real
// daemon running examples/mail-signup: a sign-up's e-mail appears without a
// reload, its text and its HTML (sandboxed, loading nothing remote) are shown.

const missing = browserMissing();
const WAIT = 30_000;

describe.skipIf(missing !== undefined)("an app's mail in the web console", () => {
  const { home, cleanup } = tempHome();
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let proxyPort: number;
  // A server a message's remote image points at: it must never be asked.
  const asked: string[] = [];
  let tracker: Server;

  beforeAll(async () => {
    tracker = createServer((req, res) => {
      asked.push(req.url ?? '');
      res.end();
    });
    await new Promise<void>((resolve) => tracker.listen(0, '127.0.0.1', resolve));
    const started = await runCli(['daemon', 'start'], { home });
    expect(started.exitCode, started.stderr).toBe(0);
    const up = await runCli(['up', '-d', join(examples, 'mail-signup')], { home });
    expect(up.exitCode, up.stderr).toBe(0);
    proxyPort = ((await apiRequest(join(home, 'paasmaker.sock'), 'GET', '/api/v1/status')).json as { proxyPort: number }).proxyPort;
    browser = await launchBrowser();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stopDaemonAndRemove(home, cleanup);
    tracker?.close();
  }, 60_000);

  it('shows a sign-up e-mail live, its text, and its HTML in a sandboxed frame that loads no remote image', async () => {
    const link = (await runCli(['console', '--no-open'], { home })).stdout.trim();
    const origin = new URL(link).origin;
    await page.goto(link);
    await page.goto(`${origin}/apps/mail-signup`);
    await page.click('a.button:text("Mail")');
    await page.locator('td.muted', { hasText: 'No mail yet' }).waitFor({ timeout: WAIT });

    // The form, posted through the router as a browser posts it.
    const body = 'name=Cy&email=cy%40example.test';
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: proxyPort, path: '/signup', method: 'POST', headers: { host: 'mail-signup.localhost', 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length } }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end(body);
    });
    const row = page.locator('tr[data-mail-row]', { hasText: 'Welcome, Cy!' });
    await row.waitFor({ timeout: WAIT });
    await page.locator('pre.mailtext', { hasText: 'Hello Cy,' }).waitFor({ timeout: WAIT });

    // A message whose HTML asks for a remote image (a read receipt, as newsletters send).
    const env = (await apiRequest(join(home, 'paasmaker.sock'), 'GET', '/api/v1/apps/mail-signup/env?show_secrets=true')).json as Record<string, string>;
    const pixel = `http://127.0.0.1:${(tracker.address() as { port: number }).port}/pixel.gif`;
    const sent = await sendMail(Number(env.SMTP_PORT), {
      from: 'news@example.test',
      to: ['cy@example.test'],
      user: env.SMTP_USER,
      password: env.SMTP_PASSWORD,
      data: multipartMessage({ from: 'News <news@example.test>', to: 'cy@example.test', subject: 'Our newsletter', text: 'The news, in text.', html: `<h1 id="news">The news</h1><img src="${pixel}"><script>document.title='ran'</script>` }),
    });
    expect(sent.code, sent.text).toBe(250);
    const news = page.locator('tr[data-mail-row]', { hasText: 'Our newsletter' });
    await news.waitFor({ timeout: WAIT });
    await news.click();
    await page.locator('pre.mailtext', { hasText: 'The news, in text.' }).waitFor({ timeout: WAIT });
    await page.click('.maildetail button:text("HTML")');
    const frame = page.locator('iframe.mailhtml');
    expect(await frame.getAttribute('sandbox')).toBe('');
    await page.frameLocator('iframe.mailhtml').locator('#news').waitFor({ timeout: WAIT });
    expect(await page.frameLocator('iframe.mailhtml').locator('title').count()).toBe(0);
    await page.waitForTimeout(500);
    expect(asked).toEqual([]);
    await page.screenshot({ path: join(screenshots, 'mail.png'), fullPage: true });
  });
});
