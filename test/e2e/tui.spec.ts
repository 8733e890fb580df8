import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, bin, examples, psJson, repoRoot, runCli, tempHome, until } from '../helpers/cli.js';
import { haveTmux, openTerminal } from '../helpers/tmux.js';

// `paasmaker up` in a real terminal: tmux gives it one, 120×40.
if (!haveTmux) console.warn('skipping the terminal UI test: install tmux (apt install tmux)');

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

/** A temporary home whose daemon (once a test starts one) is stopped after the test, after its terminals. */
function daemonHome(): string {
  const { home, cleanup } = tempHome();
  cleanups.unshift(() => {
    execFileSync(bin, ['daemon', 'stop'], { env: { ...process.env, PAASMAKER_HOME: home } });
    cleanup();
  });
  return home;
}

describe.skipIf(!haveTmux)('the terminal UI in a real terminal', () => {
  it('shows the web row running with its URL; q stops everything and exits 0', async () => {
    const { home, cleanup } = tempHome();
    // A person's terminal: CI=true (set when the suite runs in CI) would turn the UI into plain lines.
    const command = `env -u CI PAASMAKER_HOME=${home} PAASMAKER_PROXY_PORT=0 PAASMAKER_DNS_PORT=0 PAASMAKER_TLS_PORT=0 ${bin} up ${join(examples, 'hello-node')}; echo EXIT=$?; sleep 60`;
    const terminal = openTerminal(home, 'pm-tui', command);
    cleanups.push(() => {
      terminal.close();
      cleanup();
    });
    const { screen } = terminal;
    await until(() => /web\.0\s+● running\s+https:\/\/hello-node\.localhost:\d+\//.test(screen()), 15_000, 'the web row running with its URL');
    const text = screen();
    expect(text).toMatch(/PROCESS\s+STATE\s+URL/);
    expect(text).toContain('? help · q quit');
    const pid = Number(/web\.0\s+● running\s+\S+\s+\S+\s+(\d+)/.exec(text)![1]);
    expect(alive(pid)).toBe(true);
    terminal.keys('q');
    await until(() => screen().includes('EXIT=0'), 10_000, 'paasmaker to exit 0');
    expect(screen()).toContain('hello-node stopped');
    expect(alive(pid)).toBe(false);
  });

  it('a crash-looping app: its row reads backoff, built by the platform\'s own feed', async () => {
    const { home, cleanup } = tempHome();
    const command = `env -u CI PAASMAKER_HOME=${home} PAASMAKER_PROXY_PORT=0 PAASMAKER_DNS_PORT=0 PAASMAKER_TLS_PORT=0 ${bin} up ${join(repoRoot, 'test', 'fixtures', 'projects', 'crashy')}; echo EXIT=$?; sleep 60`;
    const terminal = openTerminal(home, 'pm-tui-crashy', command);
    cleanups.push(() => {
      terminal.close();
      cleanup();
    });
    const { screen } = terminal;
    await until(() => /web\.0\s+↻ backoff/.test(screen()), 15_000, 'the web row in backoff');
    expect(screen()).not.toMatch(/web\.0\s+● running/);
    // The platform says the same (between two tries it may be starting for a moment).
    await until(async () => (await psJson(home))[0]?.state === 'backoff', 10_000, 'ps to say backoff');
    terminal.keys('q');
    await until(() => screen().includes('EXIT=0'), 10_000, 'paasmaker to exit 0');
  });

  it('in a terminal while the daemon runs: the UI holds this project only; Ctrl-C stops it, exits 130 as for SIGINT, and the others run on', async () => {
    const home = daemonHome();
    expect((await runCli(['up', '-d', join(examples, 'static-site')], { home })).exitCode).toBe(0);
    const terminal = openTerminal(home, 'pm-tui-d', `env -u CI PAASMAKER_HOME=${home} ${bin} up ${join(examples, 'hello-node')}; echo EXIT=$?; sleep 60`);
    cleanups.push(() => terminal.close());
    const { screen } = terminal;
    await until(() => /web\.0\s+● running\s+https:\/\/hello-node\.localhost:\d+\//.test(screen()), 15_000, 'the held project running in the UI');
    expect(screen()).not.toContain('static-site');
    terminal.keys('C-c');
    await until(() => screen().includes('EXIT=130'), 10_000, 'paasmaker to exit 130');
    const status = JSON.parse((await runCli(['daemon', 'status', '--json'], { home })).stdout) as { apps: string[] };
    expect(status.apps).toEqual(['static-site']);
  });

  it('top: its help says q leaves and the apps run on; s and S stop and start a process over the API; q leaves them running', async () => {
    const home = daemonHome();
    expect((await runCli(['up', '-d', join(examples, 'hello-node')], { home })).exitCode).toBe(0);
    const web = async () => (await psJson(home)).find((row) => row.app === 'hello-node' && row.instance === 'web')!;
    const before = await web();
    const terminal = openTerminal(home, 'pm-top', `env -u CI PAASMAKER_HOME=${home} ${bin} top; echo EXIT=$?; sleep 60`);
    cleanups.push(() => terminal.close());
    const { screen, keys } = terminal;
    await until(() => /web\.0\s+● running/.test(screen()), 15_000, 'the web row in top');
    expect(screen()).toMatch(/paasmaker top · 1 app\(s\)\s+router :\d+\s+1 running · 0 failing/);
    keys('?');
    await until(() => screen().includes('q leave the UI (the apps run on'), 5000, 'the help of top');
    expect(screen()).not.toContain('stop and quit');
    keys('x');
    keys('s');
    await until(async () => (await web()).state === 'stopped', 15_000, 'the API: web stopped');
    await until(() => screen().includes('web.0: stopped'), 5000, 'the UI: web stopped');
    keys('S');
    await until(async () => (await web()).state === 'running', 15_000, 'the API: web running again');
    expect((await web()).pid).not.toBe(before.pid);
    keys('q');
    await until(() => screen().includes('EXIT=0'), 10_000, 'top to exit 0');
    expect((await web()).state).toBe('running');
  });

  it('a deployed version: top says the app runs v1; a dev up of its folder says it holds APP.localhost, and the version takes it back after', async () => {
    const home = daemonHome();
    const repo = mkdtempSync(join(tmpdir(), 'pm-tui-repo-'));
    cleanups.push(() => rmSync(repo, { recursive: true, force: true }));
    cpSync(join(examples, 'hello-node', 'server.js'), join(repo, 'server.js'));
    writeFileSync(join(repo, 'paasmaker.yml'), ['application:', '  name: greeter', 'instances:', '  web:', '    runtime: {name: node}', '    command: node server.js', ''].join('\n'));
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, env: { ...process.env, GIT_AUTHOR_NAME: 'Ada', GIT_AUTHOR_EMAIL: 'ada@example.com', GIT_COMMITTER_NAME: 'Ada', GIT_COMMITTER_EMAIL: 'ada@example.com' } });
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-q', '-m', 'First');
    const deployed = await runCli(['deploy'], { home, cwd: repo });
    expect(deployed.exitCode, deployed.stderr).toBe(0);
    const top = openTerminal(home, 'pm-top-v', `env -u CI PAASMAKER_HOME=${home} ${bin} top; echo EXIT=$?; sleep 60`);
    cleanups.push(() => top.close());
    await until(() => top.screen().includes('versions: greeter v1'), 15_000, 'the version line in top');
    const dev = openTerminal(home, 'pm-dev-v', `cd ${repo} && env -u CI PAASMAKER_HOME=${home} ${bin} up; echo EXIT=$?; sleep 60`);
    await until(() => /^greeter v1 \(dev serving\)\s+https:\/\/greeter\.localhost:\d+\//m.test(dev.screen()), 20_000, 'the dev up saying it holds greeter.localhost');
    await until(() => top.screen().includes('versions: greeter v1 (dev serving)'), 15_000, 'top saying the dev up serves');
    dev.keys('C-c');
    await until(() => /versions: greeter v1\s*$/m.test(top.screen()), 15_000, 'top: v1 serving again once the dev up stops');
  });
});
