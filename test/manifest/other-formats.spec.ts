import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadManifest } from '../../src/manifest/index.js';
import { PaasmakerError } from '../../src/shared/errors.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function project(files: Record<string, string>, name = 'My_Project'): string {
  const root = mkdtempSync(join(tmpdir(), 'pm-formats-'));
  dirs.push(root);
  const dir = join(root, name);
  mkdirSync(dir);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

function messageOf(dir: string): string {
  try {
    loadManifest(dir);
  } catch (error) {
    expect(error).toBeInstanceOf(PaasmakerError);
    return (error as PaasmakerError).message.replace(`${dir}/`, '');
  }
  throw new Error('expected an error');
}

const ORIGINAL = `manifest:
  format: 1

application:
  name: tornado-simple
  tags:
    tag: value
  prepare:
    runtime:
      plugin: paasmaker.runtime.shell
      version: 1
    commands:
      - plugin: paasmaker.prepare.shell
        parameters:
          commands:
            - pip install -r requirements.txt

instances:
  - name: web
    quantity: 1
    runtime:
      plugin: paasmaker.runtime.shell
      parameters:
        launch_command: "python app.py --port=%(port)d"
      version: 1
    startup:
      - plugin: paasmaker.startup.shell
        parameters:
          commands:
            - python migrate.py
    hostnames:
      - tornado-simple.local.paasmaker.net
    exclusive: false
    crons:
      - runspec: '* * * * *'
        uri: /environ

services:
  - name: db
    plugin: paasmaker.service.managedpostgres
  - name: cache
    plugin: paasmaker.service.managedredis
  - name: files
    plugin: paasmaker.service.filesystem
    parameters: {}
`;

describe('the original manifest.yml (format 1)', () => {
  it('maps plugins, commands, crons and %(port)d onto the same shape', () => {
    const manifest = loadManifest(project({ 'manifest.yml': ORIGINAL }));
    expect(manifest.kind).toBe('manifest.yml');
    expect(manifest.application.name).toBe('tornado-simple');
    const [web] = manifest.instances;
    expect(web).toMatchObject({
      name: 'web',
      runtime: { name: 'python' },
      command: 'python app.py --port=$PORT',
      prepare: { commands: ['pip install -r requirements.txt'] },
      startup: ['python migrate.py'],
      hostnames: ['tornado-simple.local.paasmaker.net'],
      crons: [{ schedule: '* * * * *', uri: '/environ' }],
      standalone: false,
    });
    expect(manifest.services.map((s) => [s.name, s.plugin])).toEqual([
      ['db', 'postgres'],
      ['cache', 'redis'],
      ['files', 'filesystem'],
    ]);
  });

  it("maps the original's php and ruby runtimes: php serves its document_root without a launch_command", () => {
    const php = ORIGINAL.replace('      plugin: paasmaker.runtime.shell\n      parameters:\n        launch_command: "python app.py --port=%(port)d"', '      plugin: paasmaker.runtime.php\n      parameters:\n        document_root: web');
    const [web] = loadManifest(project({ 'manifest.yml': php })).instances;
    expect(web!.runtime).toEqual({ name: 'php', version: undefined, options: { document_root: 'web' } });
    expect(web!.command).toBeUndefined();
    const ruby = ORIGINAL.replace('plugin: paasmaker.runtime.shell\n      parameters:\n        launch_command: "python app.py', 'plugin: paasmaker.runtime.ruby.rbenv\n      parameters:\n        launch_command: "ruby app.rb');
    expect(loadManifest(project({ 'manifest.yml': ruby })).instances[0]!).toMatchObject({ runtime: { name: 'ruby' }, command: 'ruby app.rb --port=$PORT' });
  });

  it('is read only when there is no paasmaker.yml', () => {
    const dir = project({ 'manifest.yml': ORIGINAL, 'paasmaker.yml': 'application: {name: newer}\ninstances:\n  web: {command: x}\n' });
    expect(loadManifest(dir).application.name).toBe('newer');
  });

  it('positions its errors too', () => {
    const broken = ORIGINAL.replace('    quantity: 1', '    quantity: lots');
    expect(messageOf(project({ 'manifest.yml': broken }))).toMatch(/^manifest\.yml:20:15: instances\[0\]\.quantity .*\(got "lots"\)$/);
    const noLaunch = ORIGINAL.replace('        launch_command: "python app.py --port=%(port)d"', '        other: x');
    expect(messageOf(project({ 'manifest.yml': noLaunch }))).toMatch(/^manifest\.yml:21:5: instances\[0\] \(web\) needs runtime\.parameters\.launch_command$/);
  });

  it('checks what reaches HTTP and the scheduler: hostnames, cron uris and runspecs', () => {
    const with_ = (from: string, to: string) => messageOf(project({ 'manifest.yml': ORIGINAL.replace(from, to) }));
    expect(with_('      - tornado-simple.local.paasmaker.net', '      - "http://tornado:8000"')).toMatch(/^manifest\.yml:32:9: instances\[0\]\.hostnames\[0\] must be a hostname/);
    expect(with_('        uri: /environ', '        uri: /environ now')).toMatch(/^manifest\.yml:36:14: instances\[0\]\.crons\[0\]\.uri must be a URL path/);
    expect(with_("      - runspec: '* * * * *'", "      - runspec: 'every minute'")).toMatch(/^manifest\.yml:35:18: instances\[0\]\.crons\[0\]\.runspec: /);
    expect(with_('        uri: /environ', '        other: x')).toMatch(/^manifest\.yml:35:9: instances\[0\]\.crons\[0\] needs exactly one of "uri" or "command"$/);
  });

  it('refuses a service declared twice or with a name no environment variable could carry', () => {
    expect(messageOf(project({ 'manifest.yml': ORIGINAL.replace('  - name: cache', '  - name: db') }))).toBe('manifest.yml:41:11: service "db" is declared twice');
    expect(messageOf(project({ 'manifest.yml': ORIGINAL.replace('  - name: cache', '  - name: "../cache"') }))).toMatch(/^manifest\.yml:41:11: services\[1\]\.name must start with a-z/);
  });
});

describe('Procfile + .env', () => {
  it("follows foreman: web is routed, the rest standalone, app named after the folder", () => {
    const dir = project({ Procfile: '# processes\nweb: node web.js --port $PORT\nworker: python3 worker.py\n\n', '.env': 'GREETING=hi\n' });
    const manifest = loadManifest(dir);
    expect(manifest.kind).toBe('Procfile');
    expect(manifest.application.name).toBe('my-project');
    expect(manifest.instances.map((i) => [i.name, i.runtime.name, i.standalone, i.command])).toEqual([
      ['web', 'node', false, 'node web.js --port $PORT'],
      ['worker', 'python', true, 'python3 worker.py'],
    ]);
    expect(manifest.dotenv.values).toEqual({ GREETING: 'hi' });
  });

  it("a release line is Heroku's release phase: a one-shot every other type waits for", () => {
    const manifest = loadManifest(project({ Procfile: 'web: node web.js\nrelease: node migrate.js\nworker: node worker.js\n' }));
    expect(manifest.instances.map((i) => [i.name, i.oneshot, i.restart, i.standalone, i.depends_on])).toEqual([
      ['web', false, 'on-failure', false, ['release']],
      ['release', true, 'never', true, []],
      ['worker', false, 'on-failure', true, ['release']],
    ]);
  });

  it('positions a bad line and a duplicate type', () => {
    expect(messageOf(project({ Procfile: 'web: node a.js\nthis is not a process\n' }))).toBe('Procfile:2:1: expected "type: command"');
    expect(messageOf(project({ Procfile: 'web: node a.js\nweb: node b.js\n' }))).toBe('Procfile:2:1: process type "web" is declared twice');
    expect(messageOf(project({ Procfile: 'web:\n' }))).toBe('Procfile:1:5: process type "web" has no command');
  });

  it('refuses NUL characters in a command or in .env, and over-long type names', () => {
    expect(messageOf(project({ Procfile: 'web: node a.js\u0000 --x\n' }))).toBe('Procfile:1:15: this command holds a NUL character (\\0), which no command can carry');
    expect(messageOf(project({ Procfile: 'web: node a.js\n', '.env': 'A=1\nB=x\u0000y\n' }))).toBe('.env:2:4: this file holds a NUL character (\\0), which no variable can carry');
    expect(messageOf(project({ Procfile: `w${'x'.repeat(40)}: node a.js\n` }))).toMatch(/^Procfile:1:1: process type "wx+" is longer than 40 characters$/);
  });
});
