import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { examples, repoRoot, runCli, stopDaemonAndRemove, tempHome } from '../helpers/cli.js';

/** A GET to 127.0.0.1:port with this Host (and more headers). */
function get(port: number, host: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host, ...headers }, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('paasmaker console without a daemon', () => {
  it('exits 1 and says to start the daemon', async () => {
    const { home, cleanup } = tempHome();
    try {
      const result = await runCli(['console'], { home });
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain('paasmaker daemon start');
    } finally {
      cleanup();
    }
  });
});

describe('the console served by the daemon', () => {
  const { home, cleanup } = tempHome();
  let router = 0;
  let api = 0;

  beforeAll(async () => {
    const started = await runCli(['daemon', 'start', '--api-port', '0'], { home });
    expect(started.exitCode, started.stderr).toBe(0);
    const record = JSON.parse(readFileSync(join(home, 'daemon.json'), 'utf8')) as { proxyPort: number; apiPort: number };
    router = record.proxyPort;
    api = record.apiPort;
  }, 60_000);

  afterAll(() => stopDaemonAndRemove(home, cleanup), 60_000);

  it('answers paasmaker.localhost on the router and the TCP API port with the page, its files cached for good, and a strict CSP', async () => {
    const files = JSON.parse(readFileSync(join(repoRoot, 'dist/console/first-load.json'), 'utf8')) as string[];
    for (const [port, host] of [
      [router, `paasmaker.localhost:${router}`],
      [router, `paasmaker.local.paasmaker:${router}`],
      [api, `127.0.0.1:${api}`],
    ] as const) {
      const page = await get(port, host, '/jobs/some-job');
      expect(page.status, host).toBe(200);
      expect(page.headers['content-type']).toContain('text/html');
      expect(page.headers['content-security-policy']).toBe("default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
      expect(page.headers['cache-control']).toBe('no-store');
      const script = await get(port, host, files[1]!);
      expect(script.status).toBe(200);
      expect(script.headers['content-type']).toContain('text/javascript');
      expect(script.headers['cache-control']).toContain('immutable');
      expect(script.headers['x-content-type-options']).toBe('nosniff');
    }
    // A file that is not there is a 404, not the page.
    expect((await get(router, `paasmaker.localhost:${router}`, '/chunks/nothing-ABCDEFGH.js')).status).toBe(404);
  });

  it('asks a browser for a user before any API answer, and refuses foreign hosts and origins', async () => {
    const host = `paasmaker.localhost:${router}`;
    expect((await get(router, host, '/api/v1/apps')).status).toBe(401);
    expect((await get(router, host, '/api/v1/apps', { origin: `http://shop.localhost:${router}` })).status).toBe(403);
    expect((await get(api, `evil.example:${api}`, '/')).status).toBe(403);
  });

  it("keeps the console's names when an app is named paasmaker or lists them in hostnames: its session cookie never reaches an app", async () => {
    const project = mkdtempSync(join(tmpdir(), 'pm-named-paasmaker-'));
    try {
      cpSync(join(examples, 'hello-node'), project, { recursive: true });
      writeFileSync(join(project, 'paasmaker.yml'), ['application:', '  name: paasmaker', 'instances:', '  web:', '    runtime: {name: node}', '    command: node server.js', '    hostnames: [paasmaker.local.paasmaker]', ''].join('\n'));
      const up = await runCli(['up', '-d', project], { home });
      expect(up.exitCode, up.stderr).toBe(0);
      for (const host of [`paasmaker.localhost:${router}`, `paasmaker.local.paasmaker:${router}`]) {
        const page = await get(router, host, '/');
        expect(page.body, host).toContain('<div id="console">');
        expect(page.body).not.toContain('Hello from Paasmaker');
      }
      await runCli(['down', 'paasmaker'], { home });
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  it('prints the sign-in link when no browser can be opened', async () => {
    const result = await runCli(['console'], { home, env: { DISPLAY: '', WAYLAND_DISPLAY: '', BROWSER: '', CI: 'true' } });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain('no browser can be opened here');
    expect(result.stdout).toMatch(new RegExp(`http://paasmaker\\.localhost:${router}/signin\\?code=\\S+`));
  });
});
