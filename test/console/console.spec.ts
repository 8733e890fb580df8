import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, examples, runCli, stopDaemonAndRemove, tempHome } from '../helpers/cli.js';
import { browserMissing, launchBrowser, screenshots } from './browser.js';

// The web console in Debian's Chromium, against a real daemon running
// examples/hello-node: what a developer sees and clicks.

const missing = browserMissing();

/** A GET to the router by URL, its host in the Host header (Node does not resolve *.localhost; the browser does). */
function getUrl(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  const { host, port, pathname, search } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: pathname + search, headers: { host, ...headers }, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
const WAIT = 30_000;

describe.skipIf(missing !== undefined)('the web console in a real browser', () => {
  const { home, cleanup } = tempHome();
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let context: BrowserContext;
  let page: Page;
  let origin: string;
  const project = mkdtempSync(join(tmpdir(), 'pm-console-project-'));

  const shot = (name: string) => page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });

  /** A one-time sign-in link, as `paasmaker console --no-open` prints it. */
  const signInLink = async () => {
    const result = await runCli(['console', '--no-open'], { home });
    expect(result.exitCode, result.stderr).toBe(0);
    return result.stdout.trim();
  };

  beforeAll(async () => {
    const started = await runCli(['daemon', 'start'], { home });
    expect(started.exitCode, started.stderr).toBe(0);
    const up = await runCli(['up', '-d', join(examples, 'hello-node')], { home });
    expect(up.exitCode, up.stderr).toBe(0);
    browser = await launchBrowser();
    context = browser.context;
    page = context.pages()[0] ?? (await context.newPage());
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stopDaemonAndRemove(home, cleanup);
    rmSync(project, { recursive: true, force: true });
  }, 60_000);

  it('signs in with the one-time link of paasmaker console and lists the running app on the overview', async () => {
    const link = await signInLink();
    expect(link).toMatch(/^http:\/\/paasmaker\.localhost:\d+\/signin\?code=/);
    origin = new URL(link).origin;
    await page.goto(link);
    expect(new URL(page.url()).pathname).toBe('/');
    const row = page.locator('tr[data-app="hello-node"]');
    await row.waitFor({ timeout: WAIT });
    await expect.poll(() => row.locator('[data-state]').first().getAttribute('data-state'), { timeout: WAIT }).toBe('running');
    await expect.poll(() => page.textContent('.live'), { timeout: WAIT }).toContain('live');
    // The router listens with TLS: the app's link is its https:// URL.
    const status = JSON.parse((await runCli(['daemon', 'status', '--json'], { home })).stdout) as { proxyPort: number; tlsPort: number };
    expect(await row.locator('td.url a').getAttribute('href')).toBe(`https://hello-node.localhost:${status.tlsPort}/`);
    // The link works once.
    expect((await getUrl(link)).status).toBe(400);
    await shot('overview');
  });

  it('shows a process added by paasmaker scale in the CLI, without a reload', async () => {
    await page.click('a:text("hello-node")');
    await page.locator('tr[data-process="web.0"]').waitFor({ timeout: WAIT });
    // Its page links both: https first, then plain http.
    const status = JSON.parse((await runCli(['daemon', 'status', '--json'], { home })).stdout) as { proxyPort: number; tlsPort: number };
    expect(await page.locator('.apphead a.mono').evaluateAll((links) => links.map((link) => link.getAttribute('href')))).toEqual([`https://hello-node.localhost:${status.tlsPort}/`, `http://hello-node.localhost:${status.proxyPort}/`]);
    await page.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));
    const scaled = await runCli(['scale', 'hello-node/web=2'], { home });
    expect(scaled.exitCode, scaled.stderr).toBe(0);
    await expect.poll(() => page.locator('tr[data-process="web.1"] [data-state]').getAttribute('data-state'), { timeout: WAIT }).toBe('running');
    expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
    await shot('app');
  });

  it('shows a restarted process starting, then running, after a click on Restart', async () => {
    // Every state the row of web.0 shows, in order, as the page renders them.
    await page.evaluate(() => {
      const seen: string[] = ((window as unknown as { seen: string[] }).seen = []);
      const note = () => {
        const state = document.querySelector('tr[data-process="web.0"] [data-state]')?.getAttribute('data-state');
        if (state && seen[seen.length - 1] !== state) seen.push(state);
      };
      new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
      note();
    });
    await page.click('[data-instance="web"] button:text("Restart")');
    const seen = () => page.evaluate(() => (window as unknown as { seen: string[] }).seen.join(' '));
    await expect.poll(seen, { timeout: WAIT }).toMatch(/starting.*running$/);
  });

  it("streams a job's log into its tree as the job runs", async () => {
    // A project whose prepare step prints a line a second.
    cpSync(join(examples, 'hello-node'), project, { recursive: true });
    writeFileSync(
      join(project, 'paasmaker.yml'),
      ['application:', '  name: slow-prepare', 'instances:', '  web:', '    runtime: {name: node}', "    prepare: \"for i in 1 2 3 4 5 6; do echo step $i; sleep 1; done\"", '    command: node server.js', ''].join('\n'),
    );
    await page.goto(`${origin}/jobs`);
    const up = new CliProcess(['up', '-d', project], { home });
    try {
      const log = page.locator('pre[data-job-log]', { hasText: 'step 1' });
      await log.first().waitFor({ timeout: WAIT });
      // It streamed: the first line was on the page before the last was printed.
      expect(await page.locator('pre[data-job-log]', { hasText: 'step 6' }).count()).toBe(0);
      await page.locator('pre[data-job-log]', { hasText: 'step 6' }).first().waitFor({ timeout: WAIT });
      await shot('jobs');
      expect(await up.wait(60_000)).toBe(0);
    } finally {
      up.kill();
    }
  });

  it('shows the log lines of the apps live, filtered', async () => {
    await page.goto(`${origin}/logs?app=hello-node`);
    await page.locator('[data-testid="log-view"] .line').first().waitFor({ timeout: WAIT });
    await page.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));
    await runCli(['restart', 'hello-node'], { home });
    // The new processes' first words arrive over the event stream.
    await expect.poll(() => page.locator('[data-testid="log-view"] .line', { hasText: 'listening on' }).count(), { timeout: WAIT }).toBeGreaterThan(1);
    await page.fill('input[aria-label="filter"]', 'no line says this');
    expect(await page.locator('[data-testid="log-view"] .line').count()).toBe(0);
    await page.fill('input[aria-label="filter"]', '');
    expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
    await shot('logs');
  });

  it('shows a request made with curl in the request inspector, live, with its credentials redacted', async () => {
    await page.goto(`${origin}/requests?app=hello-node`);
    await page.locator('table.requests').waitFor({ timeout: WAIT });
    const port = new URL(origin).port;
    const path = `/from-curl?run=${Date.now()}`;
    const curl = await execa('curl', ['-s', '-H', `Host: hello-node.localhost:${port}`, '-H', 'Cookie: session=hunter2', '-H', 'Authorization: Bearer s3cret', `http://127.0.0.1:${port}${path}`], { reject: false });
    expect(curl.exitCode, curl.stderr).toBe(0);
    const row = page.locator(`tr[data-path="${path}"]`);
    await row.waitFor({ timeout: WAIT });
    expect(await row.textContent()).toContain('200');
    await row.click();
    const detail = page.locator('.reqdetail');
    await detail.waitFor({ timeout: WAIT });
    const text = (await detail.textContent()) ?? '';
    expect(text).toContain('[redacted]');
    expect(text).toContain('curl/');
    expect(text).not.toMatch(/hunter2|s3cret/);
    // The console's own requests are not an app's: no row of its API calls.
    expect(await page.locator('tr[data-path^="/api/v1/"]').count()).toBe(0);
    await shot('requests');
  });

  it('destroys a service only once its name is typed, and the row goes', async () => {
    const up = await runCli(['up', '-d', join(examples, 'notes')], { home });
    expect(up.exitCode, up.stderr).toBe(0);
    await page.goto(`${origin}/apps/notes`);
    const row = page.locator('tr[data-service="db"]');
    await row.waitFor({ timeout: WAIT });
    await row.locator('button:text("Destroy")').click();
    const dialog = page.locator('[role="dialog"]');
    const destroy = dialog.locator('button[type="submit"]');
    expect(await destroy.isDisabled()).toBe(true);
    await dialog.locator('input').fill('d');
    expect(await destroy.isDisabled()).toBe(true);
    await dialog.locator('input').fill('db');
    await destroy.click();
    await row.waitFor({ state: 'detached', timeout: WAIT });
    await page.locator('.toast', { hasText: 'destroyed notes/db' }).waitFor({ timeout: WAIT });
  });

  it('refuses a change whose CSRF token is wrong or missing, with 403', async () => {
    const answer = await page.evaluate(async () => {
      const wrong = await fetch('/api/v1/apps/hello-node/restart', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': 'not-the-token' }, body: '{}' });
      const none = await fetch('/api/v1/apps/hello-node/restart', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      return [wrong.status, (await wrong.json()).code, none.status];
    });
    expect(answer).toEqual([403, 'CSRF', 403]);
  });

  it('shows a viewer no action, and the API refuses the action a viewer tries anyway with 403', async () => {
    const added = await runCli(['user', 'add', 'vera', '--role', 'viewer', '--password-stdin'], { home, input: 'correct horse battery staple\n' });
    expect(added.exitCode, added.stderr).toBe(0);
    const viewer = await launchBrowser();
    try {
      const tab = viewer.context.pages()[0] ?? (await viewer.context.newPage());
      await tab.goto(`${origin}/apps/hello-node`);
      await tab.fill('input[name="user"]', 'vera');
      await tab.fill('input[name="password"]', 'a wrong password');
      await tab.click('button:text("Sign in")');
      await tab.locator('[role="alert"]', { hasText: 'wrong user name or password' }).waitFor({ timeout: WAIT });
      await tab.screenshot({ path: join(screenshots, 'signin.png') });
      await tab.fill('input[name="password"]', 'correct horse battery staple');
      await tab.click('button:text("Sign in")');
      await tab.locator('tr[data-process="web.0"]').waitFor({ timeout: WAIT });
      expect(await tab.textContent('.who')).toContain('vera');
      expect(await tab.locator('button:text("Restart")').count()).toBe(0);
      expect(await tab.locator('button:text("Stop")').count()).toBe(0);
      expect(await tab.locator('button:text("Reveal secrets")').count()).toBe(0);
      const refused = await tab.evaluate(async () => {
        const { csrf } = await (await fetch('/api/v1/session')).json();
        const answer = await fetch('/api/v1/apps/hello-node/restart', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: '{}' });
        return [answer.status, (await answer.json()).code];
      });
      expect(refused).toEqual([403, 'FORBIDDEN']);
    } finally {
      await viewer.close();
    }
  });

  it('serves the page with a strict Content-Security-Policy and no secret in its HTML', async () => {
    const response = await getUrl(`${origin}/apps/hello-node`);
    expect(response.status).toBe(200);
    expect(response.headers['content-security-policy']).toContain("script-src 'self'");
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body).toContain('<div id="console">');
    expect(response.body).not.toMatch(/<script>|<style|csrf|token/i);
    // A page of another origin (an app on the same router, a rebinding) is refused by the API.
    const foreign = await getUrl(`${origin}/api/v1/apps`, { origin: origin.replace('paasmaker.', 'hello-node.') });
    expect(foreign.status).toBe(403);
  });

  it('asks to sign in again once a restarted daemon has forgotten the session, without a reload', async () => {
    await page.goto(`${origin}/`);
    await page.locator('tr[data-app="hello-node"]').waitFor({ timeout: WAIT });
    await page.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));
    expect((await runCli(['daemon', 'stop'], { home })).exitCode).toBe(0);
    await expect.poll(() => page.textContent('.live'), { timeout: WAIT }).toContain('offline');
    expect((await runCli(['daemon', 'start'], { home })).exitCode).toBe(0);
    await page.locator('input[name="user"]').waitFor({ timeout: WAIT });
    expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
  });
});
