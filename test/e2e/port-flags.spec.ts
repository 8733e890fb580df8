import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { apiRequest, CliProcess, psJson, repoRoot, tempHome } from '../helpers/cli.js';

// Development servers that take their port from a flag, not PORT, started
// with a plain command: Paasmaker adds the flag, and they serve through the router.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A fixture copied to a temporary folder, as a clone would be. */
function clone(fixture: string): string {
  const dir = mkdtempSync(join(tmpdir(), `pm-${fixture}-`));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(repoRoot, 'test', 'fixtures', 'projects', fixture), dir, { recursive: true });
  return dir;
}

/** `up --no-tui` in the folder until its router URL is printed; stopped (Ctrl-C) after the test. */
async function up(dir: string, app: string) {
  const { home, cleanup } = tempHome();
  cleanups.push(cleanup);
  const process = new CliProcess(['up', dir, '--no-tui', '--no-watch'], { home });
  cleanups.push(async () => {
    process.signal('SIGINT');
    await process.wait(15_000).catch(() => process.kill());
  });
  await process.waitForOutput(new RegExp(`open (?:https://\\S+ \\(or )?http://${app}\\.localhost:\\d+/`), 180_000);
  const router = Number(new RegExp(`http://${app}\\.localhost:(\\d+)/`).exec(process.output)![1]);
  return { home, process, router };
}

function get(port: number, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host, accept: 'text/html' }, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Whether the registry npm is configured with answers: the Vite fixture installs vite from it (npm ci). */
function registryReachable(): Promise<boolean> {
  return new Promise((resolve) => execFile('npm', ['ping'], { timeout: 30_000 }, (error) => resolve(!error)));
}

const registry = await registryReachable();
if (!registry) console.warn('port-flags.spec: npm ping fails (the registry cannot be reached); the Vite test is skipped (it installs vite with npm ci)');

describe('a development server that ignores PORT, started without a port flag', () => {
  it.skipIf(!registry)('`command: npx vite` becomes ready and serves its index.html through the router, on *.localhost and *.local.paasmaker', async () => {
    const dir = clone('vite-plain');
    const { home, process, router } = await up(dir, 'vite-plain');
    expect(process.output).not.toContain('not ready');

    for (const host of ['vite-plain.localhost', 'vite-plain.local.paasmaker']) {
      const page = await get(router, host);
      expect(page.status, host).toBe(200);
      expect(page.body, host).toContain('Served by Vite through Paasmaker');
      // Vite's own page: its client script is injected.
      expect(page.body, host).toContain('/@vite/client');
    }

    // Where it listens is the port Paasmaker gave it, and the command as run says so.
    const [row] = await psJson(home);
    expect(row!.state).toBe('running');
    expect((await get(row!.port!, 'vite-plain.localhost')).status).toBe(200);
    // A foreground up answers the API on its own socket.
    const socket = join(home, 'run', `up-${process.pid}.sock`);
    const instances = await apiRequest(socket, 'GET', '/api/v1/apps/vite-plain/instances');
    expect(instances.json[0].command).toBe('npx vite --port $PORT --strictPort --host 127.0.0.1');
    // The job that started it logs what it added, and the command as run.
    const roots = (await apiRequest(socket, 'GET', '/api/v1/jobs?app=vite-plain')).json as Array<{ id: string }>;
    const trees = await Promise.all(roots.map(async (root) => (await apiRequest(socket, 'GET', `/api/v1/jobs/${root.id}`)).json as Array<{ id: string; title: string }>));
    const start = trees.flat().find((job) => job.title === 'start web')!;
    const log = ((await apiRequest(socket, 'GET', `/api/v1/jobs/${start.id}/log`)).json as Array<{ line: string }>).map((line) => line.line);
    expect(log).toEqual(expect.arrayContaining(['Vite takes its port from a flag, not PORT: added --port $PORT --strictPort --host 127.0.0.1', '$ npx vite --port $PORT --strictPort --host 127.0.0.1']));
  }, 300_000);

  it('`command: python3 -m http.server` serves its folder through the router', async () => {
    const dir = clone('http-server');
    const { home, router } = await up(dir, 'http-server');
    const page = await get(router, 'http-server.localhost');
    expect(page.status).toBe(200);
    expect(page.body).toContain('Served by python3 -m http.server through Paasmaker');
    const [row] = await psJson(home);
    expect((await get(row!.port!, 'http-server.localhost')).body).toContain('Served by python3');
  }, 120_000);
});
