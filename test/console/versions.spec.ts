import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { examples, getByHost, runCli, stopDaemonAndRemove, tempHome } from '../helpers/cli.js';
import { browserMissing, launchBrowser, screenshots } from './browser.js';

// The versions of an app in the web console, in Debian's Chromium, against a
// real daemon: two commits of a git repository of examples/hello-node deployed
// with `paasmaker deploy`, switched and rolled back by clicks.

const missing = browserMissing();
const WAIT = 30_000;
const APP = 'greeter';
const AUTHOR = { GIT_AUTHOR_NAME: 'Ada Lovelace', GIT_AUTHOR_EMAIL: 'ada@example.com', GIT_COMMITTER_NAME: 'Ada Lovelace', GIT_COMMITTER_EMAIL: 'ada@example.com' };

describe.skipIf(missing !== undefined)("an app's versions in the web console", () => {
  const { home, cleanup } = tempHome();
  const repo = mkdtempSync(join(tmpdir(), 'pm-versions-repo-'));
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let origin: string;
  let port: number;

  const git = (...args: string[]) => execa('git', args, { cwd: repo, env: AUTHOR });
  /** A commit that changes what the app answers. */
  const commit = async (greeting: string, subject: string) => {
    writeFileSync(join(repo, 'paasmaker.yml'), ['application:', `  name: ${APP}`, 'instances:', '  web:', '    runtime: {name: node}', '    command: node server.js', '    environment:', `      GREETING: ${greeting}`, ''].join('\n'));
    await git('add', '-A');
    await git('commit', '-q', '-m', subject);
  };
  const deploy = async () => {
    const deployed = await runCli(['deploy'], { home, cwd: repo });
    expect(deployed.exitCode, `${deployed.stdout}\n${deployed.stderr}`).toBe(0);
  };
  const version = (n: number) => page.locator(`tr[data-version="${n}"]`);
  const current = () => page.locator('tr[data-current="true"]').getAttribute('data-version');
  const answer = () => getByHost(port, `${APP}.localhost:${port}`);

  beforeAll(async () => {
    const started = await runCli(['daemon', 'start'], { home });
    expect(started.exitCode, started.stderr).toBe(0);
    cpSync(join(examples, 'hello-node', 'server.js'), join(repo, 'server.js'));
    cpSync(join(examples, 'hello-node', 'package.json'), join(repo, 'package.json'));
    await git('init', '-q', '-b', 'main');
    await commit('Hello from version one', 'Greet in English');
    await deploy();
    browser = await launchBrowser();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stopDaemonAndRemove(home, cleanup);
    rmSync(repo, { recursive: true, force: true });
  }, 60_000);

  it('lists the deployed version with its commit subject and author, current and serving APP.localhost', async () => {
    const link = (await runCli(['console', '--no-open'], { home })).stdout.trim();
    origin = new URL(link).origin;
    port = Number(new URL(link).port);
    await page.goto(link);
    await page.goto(`${origin}/apps/${APP}`);
    await version(1).waitFor({ timeout: WAIT });
    const row = (await version(1).textContent()) ?? '';
    expect(row).toContain('Greet in English');
    expect(row).toContain('Ada Lovelace');
    expect(row).toContain(`serves ${APP}.localhost`);
    expect(await current()).toBe('1');
    expect(await page.locator('.apphead [data-current-version]').textContent()).toBe('v1');
    expect(await answer()).toContain('Hello from version one');
  });

  it('shows a second deploy from the CLI as it happens: v2 appears and becomes current, v1 previous, without a reload', async () => {
    await page.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));
    await commit('Bonjour from version two', 'Greet in French');
    await deploy();
    await expect.poll(current, { timeout: WAIT }).toBe('2');
    expect(await version(2).textContent()).toContain('Greet in French');
    expect(await version(1).textContent()).toContain('previous');
    await expect.poll(() => page.locator('.apphead [data-current-version]').textContent(), { timeout: WAIT }).toBe('v2');
    expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
    expect(await answer()).toContain('Bonjour from version two');
    await page.screenshot({ path: join(screenshots, 'versions.png'), fullPage: true });
  });

  it('switches to v1 with a click: the button says it is switching, then v1 is current and APP.localhost answers with its code', async () => {
    // Every label the first button of v1's row shows, in order, as the page renders them.
    await page.evaluate(() => {
      const seen: string[] = ((window as unknown as { labels: string[] }).labels = []);
      const note = () => {
        const label = document.querySelector('tr[data-version="1"] td.actions button')?.textContent;
        if (label && seen[seen.length - 1] !== label) seen.push(label);
      };
      new MutationObserver(note).observe(document.body, { subtree: true, childList: true, characterData: true });
      note();
    });
    await version(1).locator('button:text("Switch to")').click();
    await expect.poll(current, { timeout: WAIT }).toBe('1');
    expect(await page.evaluate(() => (window as unknown as { labels: string[] }).labels.join(' | '))).toMatch(/^Switch to \| Switching…/);
    await page.locator('.toast', { hasText: `${APP}: v1 is current` }).waitFor({ timeout: WAIT });
    expect(await answer()).toContain('Hello from version one');
    expect(await version(2).textContent()).toContain('previous');
  });

  it('rolls back to the previous version with a click', async () => {
    await page.click('button:text("Roll back to v2")');
    await expect.poll(current, { timeout: WAIT }).toBe('2');
    expect(await answer()).toContain('Bonjour from version two');
  });

  it('previews a stopped version on vN.APP.localhost, and stops the preview', async () => {
    await expect.poll(() => version(1).locator('[data-state]').getAttribute('data-state'), { timeout: WAIT }).toBe('stopped');
    await version(1).locator('button:text("Start preview")').click();
    await expect.poll(() => version(1).locator('[data-state]').getAttribute('data-state'), { timeout: WAIT }).toBe('running');
    await version(1).locator(`a[href*="v1.${APP}.localhost"]`).waitFor({ timeout: WAIT });
    expect(await getByHost(port, `v1.${APP}.localhost:${port}`)).toContain('Hello from version one');
    // The current version still serves APP.localhost.
    expect(await answer()).toContain('Bonjour from version two');
    await version(1).locator('button:text("Stop preview")').click();
    await expect.poll(() => version(1).locator('[data-state]').getAttribute('data-state'), { timeout: WAIT }).toBe('stopped');
  });

  it('says when a dev up of the folder holds APP.localhost, and Stop dev up gives it back to the current version', async () => {
    writeFileSync(join(repo, 'paasmaker.yml'), ['application:', `  name: ${APP}`, 'instances:', '  web:', '    runtime: {name: node}', '    command: node server.js', '    environment:', '      GREETING: Hi from the work tree', ''].join('\n'));
    const up = await runCli(['up', '-d', repo], { home });
    expect(up.exitCode, up.stderr).toBe(0);
    await page.locator('.apphead .tag', { hasText: `dev up holds ${APP}.localhost` }).waitFor({ timeout: WAIT });
    expect(await answer()).toContain('Hi from the work tree');
    await expect.poll(() => version(2).textContent(), { timeout: WAIT }).not.toContain(`serves ${APP}.localhost`);
    await page.click('button:text("Stop dev up")');
    await page.locator('.apphead .tag', { hasText: 'dev up holds' }).waitFor({ state: 'detached', timeout: WAIT });
    await expect.poll(answer, { timeout: WAIT }).toContain('Bonjour from version two');
    await expect.poll(() => version(2).textContent(), { timeout: WAIT }).toContain(`serves ${APP}.localhost`);
  });

  it('Stop app stops the version; Start app starts the current version again', async () => {
    await page.click('button:text("Stop app")');
    await expect.poll(() => version(2).locator('[data-state]').getAttribute('data-state'), { timeout: WAIT }).toBe('stopped');
    await page.click('button:text("Start app")');
    await expect.poll(() => version(2).locator('[data-state]').getAttribute('data-state'), { timeout: WAIT }).toBe('running');
    expect(await current()).toBe('2');
    expect(await answer()).toContain('Bonjour from version two');
  });

  it('shows a viewer the versions and no button to change them, and the API refuses a viewer’s switch', async () => {
    const added = await runCli(['user', 'add', 'vera', '--role', 'viewer', '--password-stdin'], { home, input: 'correct horse battery staple\n' });
    expect(added.exitCode, added.stderr).toBe(0);
    const viewer = await launchBrowser();
    try {
      const tab = viewer.context.pages()[0] ?? (await viewer.context.newPage());
      await tab.goto(`${origin}/apps/${APP}`);
      await tab.fill('input[name="user"]', 'vera');
      await tab.fill('input[name="password"]', 'correct horse battery staple');
      await tab.click('button:text("Sign in")');
      await tab.locator('tr[data-version="1"]').waitFor({ timeout: WAIT });
      expect(await tab.locator('tr[data-version="2"]').textContent()).toContain('Greet in French');
      for (const label of ['Switch to', 'Roll back', 'Start preview', 'Stop preview']) expect(await tab.locator(`button:has-text("${label}")`).count(), label).toBe(0);
      const refused = await tab.evaluate(async (app) => {
        const { csrf } = await (await fetch('/api/v1/session')).json();
        const switched = await fetch(`/api/v1/apps/${app}/switch`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify({ version: 1 }) });
        return [switched.status, (await switched.json()).code];
      }, APP);
      expect(refused).toEqual([403, 'FORBIDDEN']);
    } finally {
      await viewer.close();
    }
  });
});
