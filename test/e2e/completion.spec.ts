import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { bin, CliProcess, cliEnv, runCli, stopDaemonAndRemove, tempHome } from '../helpers/cli.js';

// Shell completion: the script a shell sources, calling back `paasmaker __complete`.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function project(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-complete-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'paasmaker.yml'),
    `application:\n  name: ${name}\ninstances:\n  web:\n    command: node -e "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT, '127.0.0.1')"\n`,
  );
  return dir;
}

/** `paasmaker` on the PATH, as a user who installed it has it. */
function shellEnv(home: string): Record<string, string> {
  const env = cliEnv(home) as Record<string, string>;
  // A loaded machine answers slower than a TAB waits by default: these tests check what is offered, not how fast.
  return { ...env, PATH: `${dirname(bin)}${delimiter}${env.PATH ?? ''}`, PAASMAKER_COMPLETION_WAIT_MS: '5000' };
}

/** What bash offers for TAB after these words (the last one is being typed), through the sourced script. */
async function bashTab(home: string, words: string[], cwd?: string): Promise<{ offered: string[]; stderr: string }> {
  const quoted = words.map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(' ');
  const script = `source <(paasmaker completion bash); COMP_WORDS=(paasmaker ${quoted}); COMP_CWORD=${words.length}; _paasmaker_completions; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const result = await execa('bash', ['-c', script], { env: shellEnv(home), cwd, reject: false, timeout: 30_000 });
  expect(result.exitCode, result.stderr).toBe(0);
  return { offered: result.stdout.split('\n').filter(Boolean), stderr: result.stderr };
}

function installed(shell: string): boolean {
  try {
    execFileSync('which', [shell], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('paasmaker completion', () => {
  it('with no platform running, TAB offers commands, options and folders but no names, and prints nothing on stderr', async () => {
    const { home, cleanup } = tempHome();
    cleanups.push(cleanup);
    expect((await bashTab(home, ['re'])).offered).toEqual(['requests', 'restart']);
    expect((await bashTab(home, ['jobs', ''])).offered).toEqual(['show', 'abort']);
    const options = await bashTab(home, ['up', '-']);
    expect(options.offered).toEqual(expect.arrayContaining(['--detach', '--no-tui', '--prepare', '--help']));
    expect((await bashTab(home, ['up', '--no-tui', '--'])).offered).not.toContain('--no-tui');
    expect((await bashTab(home, ['completion', ''])).offered).toEqual(['bash', 'zsh', 'fish']);
    const folder = project('folder');
    expect((await bashTab(home, ['up', folder.slice(0, -2)], dirname(folder))).offered).toContain(folder);

    for (const words of [['restart', ''], ['jobs', 'show', ''], ['scale', ''], ['logs', '']]) {
      const { offered, stderr } = await bashTab(home, words);
      expect(offered, words.join(' ')).toEqual([]);
      expect(stderr).toBe('');
    }
    const direct = await runCli(['__complete', 'restart', ''], { home });
    expect([direct.exitCode, direct.stdout, direct.stderr]).toEqual([0, '', '']);
  });

  it('with the daemon running an app, `paasmaker restart <TAB>` offers the app and its instance types, and `jobs show <TAB>` its recent jobs', async () => {
    const { home, cleanup } = tempHome();
    cleanups.push(() => stopDaemonAndRemove(home, cleanup));
    const started = await runCli(['up', '-d', project('shop')], { home });
    expect(started.exitCode, started.stderr).toBe(0);

    const restart = await bashTab(home, ['restart', '']);
    expect(restart.offered).toEqual(['shop', 'shop/web']);
    expect(restart.stderr).toBe('');
    expect((await bashTab(home, ['restart', 'shop/'])).offered).toEqual(['shop/web']);
    expect((await bashTab(home, ['scale', ''])).offered).toEqual(['shop/web=1']);
    expect((await bashTab(home, ['logs', ''])).offered).toEqual(['shop', 'shop/web', 'shop/web.0']);
    expect((await bashTab(home, ['jobs', '--app', ''])).offered).toEqual(['shop']);

    const jobs = JSON.parse((await runCli(['jobs', '--json'], { home })).stdout) as Array<{ id: string; title: string }>;
    const up = jobs.find((job) => job.title === 'up shop');
    expect(up).toBeDefined();
    expect((await bashTab(home, ['jobs', 'show', ''])).offered).toContain(up!.id);
    // zsh and fish show what each name is next to it.
    const described = await runCli(['__complete', 'jobs', 'show', up!.id.slice(0, 4)], { home });
    expect(described.stdout.split('\n')).toContain(`${up!.id}\tup shop (success)`);

    if (installed('fish')) {
      const fish = await execa('fish', ['-c', 'paasmaker completion fish | source; complete -C "paasmaker restart "'], { env: shellEnv(home), reject: false });
      expect(fish.stdout.split('\n')).toEqual(['shop\trunning', 'shop/web\t1 running']);
    }

    await runCli(['down', 'shop'], { home });
    expect((await bashTab(home, ['restart', ''])).offered).toEqual([]);
    expect((await bashTab(home, ['ps', ''])).offered).toEqual(['shop']);
  });

  it('offers the app of a foreground `paasmaker up` through its own socket, merged with the daemon\'s once one starts', async () => {
    const { home, cleanup } = tempHome();
    const up = new CliProcess(['up', '--no-tui', project('solo')], { home });
    cleanups.push(async () => {
      up.signal('SIGTERM');
      await up.wait().catch(() => undefined);
      up.kill();
      await stopDaemonAndRemove(home, cleanup);
    });
    await up.waitForOutput('solo is up');
    expect((await bashTab(home, ['restart', ''])).offered).toEqual(['solo', 'solo/web']);

    const other = await runCli(['up', '-d', project('other')], { home });
    expect(other.exitCode, other.stderr).toBe(0);
    expect((await bashTab(home, ['restart', ''])).offered.sort()).toEqual(['other', 'other/web', 'solo', 'solo/web']);
    // Both answer for the whole home: each process counts once.
    expect((await bashTab(home, ['scale', ''])).offered.sort()).toEqual(['other/web=1', 'solo/web=1']);
  });

  it('prints the zsh and fish scripts, which their shells parse', async () => {
    const { home, cleanup } = tempHome();
    cleanups.push(cleanup);
    const unknown = await runCli(['completion', 'tcsh'], { home });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('one of: bash, zsh, fish');

    for (const shell of ['zsh', 'fish']) {
      const printed = await runCli(['completion', shell], { home });
      expect(printed.exitCode, printed.stderr).toBe(0);
      expect(printed.stdout).toContain('paasmaker __complete');
      if (!installed(shell)) {
        console.log(`${shell} is not installed: its script is printed but not parsed`);
        continue;
      }
      const script = join(home, `paasmaker.${shell}`);
      writeFileSync(script, printed.stdout);
      const parsed = await execa(shell, ['-n', script], { reject: false });
      expect(parsed.exitCode, `${shell} -n: ${parsed.stderr}`).toBe(0);
    }
  });
});
