import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { afterEach, describe, expect, it } from 'vitest';
import { CliProcess, runCli, runWatchingKeepers, stopDaemonAndRemove, tempHome } from '../helpers/cli.js';
import { userToken } from '../helpers/auth.js';

// `paasmaker env` and GET /api/v1/apps/{app}/env: the environment an app's
// instances get, from the platform that runs the app, secrets masked unless
// asked for by a caller who may see credentials.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const PASSWORD = 'hunter2-not-for-tcp';

function project(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-env-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'paasmaker.yml'),
    `application:\n  name: ${name}\ninstances:\n  web:\n    command: node -e "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT, '127.0.0.1')"\n    environment:\n      GREETING: hello\n  worker:\n    standalone: true\n    command: node -e "setInterval(() => {}, 1000)"\n    environment:\n      ROLE: worker\nservices:\n  notes:\n    plugin: sqlite\n`,
  );
  writeFileSync(join(dir, '.env'), `SMTP_PASSWORD=${PASSWORD}\nUPSTREAM_URL=https://bob:${PASSWORD}@example.com/feed\n`);
  return dir;
}

function home(): string {
  const { home, cleanup } = tempHome();
  cleanups.push(() => stopDaemonAndRemove(home, cleanup));
  return home;
}

function call(target: { socketPath: string } | { port: number; token: string }, path: string): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const where = 'socketPath' in target ? { socketPath: target.socketPath } : { host: '127.0.0.1', port: target.port };
    const headers: Record<string, string> = { host: 'localhost', ...('token' in target ? { authorization: `Bearer ${target.token}` } : {}) };
    const req = request({ ...where, path, headers, agent: false }, (res) => {
      let answer = '';
      res.on('data', (chunk) => (answer += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, json: answer ? JSON.parse(answer) : undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('paasmaker env', () => {
  it("asks the daemon that runs the app, without opening a platform of its own, and prints what a platform of its own would", async () => {
    const dir = project('envy');

    // Without a daemon: the command opens a platform itself (a keeper appears while it runs).
    const alone = home();
    const direct = await runWatchingKeepers(['env', dir, '--json', '--show-secrets'], alone);
    expect(direct.exitCode, direct.stderr).toBe(0);
    expect(direct.keepers).toBeGreaterThan(0);

    const pmHome = home();
    const started = await runCli(['daemon', 'start'], { home: pmHome });
    expect(started.exitCode, started.stderr).toBe(0);
    const up = await runCli(['up', '-d', dir], { home: pmHome });
    expect(up.exitCode, up.stderr).toBe(0);

    const viaDaemon = await runWatchingKeepers(['env', dir, '--json', '--show-secrets'], pmHome);
    expect(viaDaemon.exitCode, viaDaemon.stderr).toBe(0);
    expect(viaDaemon.keepers).toBe(0);
    expect(readdirSync(pmHome).includes('run') ? readdirSync(join(pmHome, 'run')).filter((name) => name.startsWith('up-')) : []).toEqual([]);

    // The same data as the command prints on its own (paths in the home aside).
    // PORT aside: the one web.0 got where it runs, a placeholder where nothing runs it.
    const env = JSON.parse(viaDaemon.stdout) as Record<string, string>;
    const alone_ = JSON.parse(direct.stdout.replaceAll(alone, pmHome)) as Record<string, string>;
    expect({ ...env, PORT: 'x' }).toEqual({ ...alone_, PORT: 'x' });
    expect(env).toMatchObject({ PAASMAKER_APP: 'envy', GREETING: 'hello', SMTP_PASSWORD: PASSWORD, NOTES_URL: `sqlite://${join(pmHome, 'data', 'envy', 'notes.sqlite')}` });
    expect(alone_.PORT).toBe('<given at start, one per process>');
    const web = (JSON.parse((await runCli(['ps', 'envy', '--json'], { home: pmHome })).stdout) as Array<{ instance: string; port: number }>).find((row) => row.instance === 'web')!;
    expect(env.PORT).toBe(String(web.port));

    // Plain output masks the secrets; --show-secrets reveals them over the socket.
    const plain = await runCli(['env', dir], { home: pmHome });
    expect(plain.exitCode, plain.stderr).toBe(0);
    expect(plain.stdout).not.toContain(PASSWORD);
    expect(plain.stdout).toContain("SMTP_PASSWORD='********'");
    expect(plain.stdout).toContain("UPSTREAM_URL='https://bob:********@example.com/feed'");
    expect(plain.stderr).toContain('secrets masked');
    const shown = await runCli(['env', dir, '--show-secrets'], { home: pmHome });
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`SMTP_PASSWORD=${PASSWORD}`);
  });

  it('asks a foreground up that runs the app, over its own socket, and answers the same as the daemon', async () => {
    const dir = project('solo');
    const daemonHome = home();
    expect((await runCli(['daemon', 'start'], { home: daemonHome })).exitCode).toBe(0);
    expect((await runCli(['up', '-d', dir], { home: daemonHome })).exitCode).toBe(0);
    const fromDaemon = await runCli(['env', dir, '--json', '--show-secrets'], { home: daemonHome });
    expect(fromDaemon.exitCode, fromDaemon.stderr).toBe(0);

    const pmHome = home();
    const up = new CliProcess(['up', dir], { home: pmHome });
    cleanups.push(() => up.kill());
    await up.waitForOutput(/solo is up/, 30_000);
    const fromUp = await runWatchingKeepers(['env', dir, '--json', '--show-secrets'], pmHome);
    expect(fromUp.exitCode, fromUp.stderr).toBe(0);
    expect(fromUp.keepers).toBe(0);
    expect({ ...JSON.parse(fromUp.stdout), PORT: 'x' }).toEqual({ ...JSON.parse(fromDaemon.stdout.replaceAll(daemonHome, pmHome)), PORT: 'x' });
    const masked = await runCli(['env', dir], { home: pmHome });
    expect(masked.stdout).not.toContain(PASSWORD);
    up.signal('SIGINT');
    expect(await up.wait()).toBe(130);
  });

  it('is a route of the API: masked by default, per instance type, secrets only to a caller who may see credentials', async () => {
    const dir = project('vault');
    const pmHome = home();
    const started = await runCli(['daemon', 'start', '--api-port', '0'], { home: pmHome });
    expect(started.exitCode, started.stderr).toBe(0);
    expect((await runCli(['up', '-d', dir], { home: pmHome })).exitCode).toBe(0);
    const socket = { socketPath: join(pmHome, 'paasmaker.sock') };
    const port = (JSON.parse((await runCli(['daemon', 'status', '--json'], { home: pmHome })).stdout) as { apiPort: number }).apiPort;
    const tcp = { port, token: await userToken(pmHome, 'watcher', 'viewer') };
    const developer = { port, token: await userToken(pmHome, 'dev', 'developer') };

    const masked = await call(socket, '/api/v1/apps/vault/env');
    expect(masked.status).toBe(200);
    expect(masked.json).toMatchObject({ PAASMAKER_APP: 'vault', GREETING: 'hello', SMTP_PASSWORD: '********', UPSTREAM_URL: 'https://bob:********@example.com/feed' });
    expect(JSON.stringify(masked.json)).not.toContain(PASSWORD);
    expect(masked.json.ROLE).toBeUndefined();

    const worker = await call(socket, '/api/v1/apps/vault/env?instance=worker');
    expect(worker.json).toMatchObject({ ROLE: 'worker' });
    expect(worker.json.GREETING).toBeUndefined();
    expect((await call(socket, '/api/v1/apps/vault/env?instance=nope')).json.code).toBe('INSTANCE_NOT_FOUND');

    const revealed = await call(socket, '/api/v1/apps/vault/env?show_secrets=true');
    expect(revealed.json.SMTP_PASSWORD).toBe(PASSWORD);

    // Over TCP, a viewer's token: masked, even when it asks for the secrets; a developer's sees them.
    expect((await call(tcp, '/api/v1/apps/vault/env')).json.SMTP_PASSWORD).toBe('********');
    const refused = await call(tcp, '/api/v1/apps/vault/env?show_secrets=true');
    expect(refused.status).toBe(200);
    expect(refused.json.SMTP_PASSWORD).toBe('********');
    expect(JSON.stringify(refused.json)).not.toContain(PASSWORD);
    expect((await call(developer, '/api/v1/apps/vault/env?show_secrets=true')).json.SMTP_PASSWORD).toBe(PASSWORD);

    const unknown = await call(socket, '/api/v1/apps/nosuch/env');
    expect(unknown.status).toBe(404);
    expect(unknown.json.code).toBe('APP_NOT_FOUND');

    // Each answer, and the CLI's --json, validate against the OpenAPI document.
    const doc = (await call(socket, '/api/v1/openapi.json')).json;
    const ajv = new Ajv2020({ strict: false });
    ajv.addSchema({ $id: 'paasmaker', components: doc.components });
    const operation = doc.paths['/api/v1/apps/{app}/env'].get;
    expect(operation.parameters.map((parameter: { name: string }) => parameter.name)).toEqual(['app', 'instance', 'show_secrets']);
    const schema = JSON.parse(JSON.stringify(operation.responses['200'].content['application/json'].schema).replace(/#\/components/g, 'paasmaker#/components'));
    const errorSchema = JSON.parse(JSON.stringify(operation.responses.default.content['application/json'].schema).replace(/#\/components/g, 'paasmaker#/components'));
    const cli = JSON.parse((await runCli(['env', dir, '--json'], { home: pmHome })).stdout);
    for (const answer of [masked.json, worker.json, revealed.json, refused.json, cli]) expect(ajv.validate(schema, answer), ajv.errorsText()).toBe(true);
    for (const answer of [unknown.json]) expect(ajv.validate(errorSchema, answer), ajv.errorsText()).toBe(true);
  });
});
