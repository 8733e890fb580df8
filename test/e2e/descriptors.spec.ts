import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, bin, cliEnv, repoRoot, runCli, sleep, tempHome, until, stopDaemonAndRemove, getByHost } from '../helpers/cli.js';

// Out of file descriptors: the platform keeps its own and stays up.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function folder(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function project(name: string): string {
  const dir = folder('pm-fd-');
  writeFileSync(join(dir, 'paasmaker.yml'), `application:\n  name: ${name}\ninstances:\n  web:\n    command: node -e "require('http').createServer((q, s) => s.end('${name} ' + q.url)).listen(process.env.PORT, '127.0.0.1')"\n`);
  return dir;
}


describe('descriptor exhaustion', () => {
  it('under ulimit -n 1024, 1,100 idle connections to the router leave the daemon alive: ps answers and the app is served', async () => {
    const { home, cleanup } = tempHome();
    cleanups.push(() => stopDaemonAndRemove(home, cleanup));
    // The daemon starts from this shell and keeps its limits (soft and hard: it cannot raise them).
    const up = await execa('sh', ['-c', `ulimit -n 1024 && exec "$0" up -d "$1"`, bin, project('alpha')], { cwd: repoRoot, env: cliEnv(home), reject: false, timeout: 60_000 });
    expect(up.exitCode, up.stderr).toBe(0);
    const status = JSON.parse((await runCli(['daemon', 'status', '--json'], { home })).stdout) as { pid: number; proxyPort: number };
    expect(readFileSync(`/proc/${status.pid}/limits`, 'utf8')).toMatch(/Max open files\s+1024\s+1024/);

    const sockets: Socket[] = [];
    cleanups.push(() => sockets.forEach((socket) => socket.destroy()));
    let closedByRouter = 0;
    for (let i = 0; i < 1100; i++) {
      const socket = connect(status.proxyPort, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.on('close', () => closedByRouter++);
      sockets.push(socket);
      if (i % 100 === 99) await sleep(50);
    }
    await sleep(1000);
    // The router keeps under its cap by closing the longest idle connections.
    expect(closedByRouter).toBeGreaterThan(100);

    const ps = await runCli(['ps', '--json'], { home });
    expect(ps.exitCode, ps.stderr).toBe(0);
    expect(JSON.parse(ps.stdout).map((row: { app: string }) => row.app)).toContain('alpha');
    expect(alive(status.pid)).toBe(true);
    expect(await getByHost(status.proxyPort, 'alpha.localhost', '/fresh')).toBe('alpha /fresh');
    // A second project, watched for saves, can still start.
    const second = await runCli(['up', '-d', project('beta')], { home });
    expect(second.exitCode, second.stderr).toBe(0);
    expect(await getByHost(status.proxyPort, 'beta.localhost', '/')).toBe('beta /');
    await sleep(500);
    expect(alive(status.pid)).toBe(true);
    expect(readFileSync(join(home, 'logs', 'daemon.log'), 'utf8')).not.toMatch(/EMFILE.*\n\s+at |Unhandled 'error' event/);
  }, 120_000);

  it('a watcher that runs out of descriptors turns watching off with a one-line warning, and the process lives on', async () => {
    const root = folder('pm-watch-');
    mkdirSync(join(root, 'src'));
    writeFileSync(join(root, 'src', 'a.js'), '');
    const script = join(folder('pm-watch-script-'), 'exhaust.mjs');
    writeFileSync(
      script,
      `import { openSync } from 'node:fs';
import { ProjectWatcher } from ${JSON.stringify(join(repoRoot, 'dist', 'src', 'engine', 'watcher.js'))};
const held = [];
try { for (;;) held.push(openSync('/dev/null', 'r')); } catch (error) { console.log('held', held.length, error.code); }
const watcher = new ProjectWatcher({ root: process.argv[2], onChange: () => {} });
await watcher.ready;
console.log('watching', watcher.watching);
setTimeout(() => console.log('alive'), 300);
`,
    );
    const run = await execa('sh', ['-c', 'ulimit -n 64 && exec node "$0" "$1"', script, root], { reject: false, timeout: 20_000 });
    expect(run.stdout).toMatch(/held \d+ EMFILE/);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toContain('watching false');
    expect(run.stdout).toContain('alive');
    expect(run.stderr.trim()).toMatch(new RegExp(`^watching ${root} is off: out of file descriptors; saves are not reloaded until the app is started again$`));
  });
});
