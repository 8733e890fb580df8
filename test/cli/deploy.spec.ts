import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, stopDaemonAndRemove, tempHome } from '../helpers/cli.js';

// The version commands' command lines: what they refuse before asking
// anything, and what `versions --json` prints.

let home: string;
let project: string;
let cleanup: () => Promise<void>;

beforeAll(() => {
  const temp = tempHome();
  home = temp.home;
  project = mkdtempSync(join(tmpdir(), 'pm-deploy-cli-'));
  writeFileSync(join(project, 'paasmaker.yml'), ['application:', '  name: crate', 'instances:', '  web:', `    command: node -e "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT, '127.0.0.1')"`, ''].join('\n'));
  cleanup = async () => {
    await stopDaemonAndRemove(home, temp.cleanup);
    rmSync(project, { recursive: true, force: true });
  };
});

afterAll(async () => cleanup?.());

describe('the version commands', () => {
  it('refuse a command line they cannot read with exit 2 and a hint, starting nothing', async () => {
    for (const [args, message] of [
      [['switch', 'crate', 'latest'], '"latest" is not a version number'],
      [['switch', 'crate', '0'], '"0" is not a version number'],
      [['versions', 'start', 'crate', 'x'], '"x" is not a version number'],
      [['versions', 'prune', 'crate', '--keep', 'all'], '--keep all: a number of versions'],
      [['deploy', '--app', 'Not An App'], '"Not An App" is not an app name'],
      [['git', 'init', 'Shop!'], '"Shop!" is not an app name'],
      [['git', 'init', 'shop', '--branch', '-x'], '"-x" is not a branch name'],
    ] as const) {
      const result = await runCli([...args], { home });
      expect({ args, exitCode: result.exitCode }).toEqual({ args, exitCode: 2 });
      expect(result.stderr).toContain(message);
      expect(result.stderr).toMatch(/hint: /);
    }
    expect((await runCli(['switch', 'crate'], { home })).exitCode).toBe(2);
    // Nothing of the above started the daemon.
    expect((await runCli(['daemon', 'status', '--json'], { home })).stdout).not.toMatch(/"pid": \d+/);
  });

  it('say that versions live in the daemon when it is not running', async () => {
    const result = await runCli(['versions', 'crate'], { home });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('the daemon is not running');
    expect(result.stderr).toContain('hint: start it with: paasmaker daemon start');
  });

  it('print the versions of the project here as a JSON array with --json', async () => {
    expect((await runCli(['up', '-d', project], { home })).exitCode).toBe(0);
    const listed = await runCli(['versions', '--json'], { home, cwd: project });
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([]);
    const human = await runCli(['versions'], { home, cwd: project });
    expect(human.stdout).toContain('crate has no deployed version yet. Make one with: paasmaker deploy');
    // A folder deployed: one flat row, as GET /api/v1/apps/{app}/versions answers it.
    const deployed = await runCli(['deploy', project], { home });
    expect(deployed.exitCode, deployed.stderr).toBe(0);
    const [row, ...rest] = JSON.parse((await runCli(['versions', 'crate', '--json'], { home })).stdout) as Array<Record<string, unknown>>;
    expect(rest).toEqual([]);
    expect(Object.keys(row!).sort()).toEqual(['app', 'author', 'commit', 'created', 'current', 'directory', 'dirty', 'error', 'httpsUrl', 'job', 'kind', 'message', 'previous', 'ref', 'serving', 'size', 'source', 'state', 'url', 'version'].sort());
    expect(row).toMatchObject({ app: 'crate', version: 1, kind: 'folder', current: true, commit: null, state: 'running' });
    const unknown = await runCli(['versions', 'nosuch'], { home });
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain('no app named "nosuch"');
  }, 60_000);
});
