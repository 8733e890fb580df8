import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadManifest, parseManifest } from '../../src/manifest/index.js';
import { PaasmakerError } from '../../src/shared/errors.js';
import { loadConfig } from '../../src/services/config.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-manifest-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** The error a manifest text raises, as the user reads it (file shown by its base name). */
function errorOf(text: string, name = 'paasmaker.yml'): PaasmakerError {
  const dir = project({ [name]: text });
  try {
    loadManifest(dir);
  } catch (error) {
    expect(error).toBeInstanceOf(PaasmakerError);
    const e = error as PaasmakerError;
    return new PaasmakerError(e.code, e.message.replace(`${dir}/`, ''), { hint: e.hint, detail: e.detail });
  }
  throw new Error('expected the manifest to be rejected');
}

const lines = (...rows: string[]) => rows.join('\n') + '\n';

describe('paasmaker.yml: resolving', () => {
  it('applies defaults and makes paths absolute', () => {
    const dir = project({
      'paasmaker.yml': lines('application:', '  name: shop', 'instances:', '  web:', '    command: node server.js', '  site:', '    runtime: static', '    root: public'),
      '.env': 'A=1\nB="two words"\n',
    });
    const manifest = loadManifest(dir);
    expect(manifest.kind).toBe('paasmaker.yml');
    expect(manifest.application.name).toBe('shop');
    const [web, site] = manifest.instances;
    expect(web).toMatchObject({
      name: 'web',
      runtime: { name: 'node' },
      command: 'node server.js',
      quantity: 1,
      standalone: false,
      startup: [],
      prepare: { commands: [], watch: [] },
      health: { timeout: 10 },
      stopTimeout: 5,
      position: { line: 4, col: 3 },
    });
    expect(site!.root).toBe(join(dir, 'public'));
    expect(manifest.dotenv.values).toEqual({ A: '1', B: 'two words' });
  });

  it('reads the full vocabulary', () => {
    const manifest = parseManifest(
      lines(
        'application: {name: shop}',
        'instances:',
        '  web:',
        '    runtime: {name: node, version: ">=20"}',
        '    prepare: [npm install, npm run build]',
        '    startup: node migrate.js',
        '    command: node server.js',
        '    quantity: 2',
        '    hostnames: [shop.localhost, "*.shop.localhost"]',
        '    environment: {GREETING: hi, RETRIES: 3, DEBUG: true}',
        '    health: {path: /healthz, timeout: 5}',
        '    depends_on: [db]',
        '    crons: [{schedule: "*/5 * * * *", uri: /tasks/cleanup}]',
        '  worker:',
        '    command: python3 worker.py',
        '    standalone: true',
        '    watch: false',
        'services:',
        '  db: {plugin: postgres, per_branch: true}',
        '  cache: redis',
        '  files: {}',
      ),
      '/tmp/shop/paasmaker.yml',
    );
    const [web, worker] = manifest.instances;
    expect(web!.runtime).toEqual({ name: 'node', version: '>=20' });
    expect(web!.prepare.commands).toEqual(['npm install', 'npm run build']);
    expect(web!.startup).toEqual(['node migrate.js']);
    expect(web!.environment).toEqual({ GREETING: 'hi', RETRIES: '3', DEBUG: 'true' });
    expect(web!.crons).toEqual([{ name: 'web-1', schedule: '*/5 * * * *', uri: '/tasks/cleanup', command: undefined }]);
    expect(worker).toMatchObject({ runtime: { name: 'python' }, standalone: true, watch: { enabled: false } });
    expect(manifest.services.map((s) => [s.name, s.plugin, s.options])).toEqual([
      ['db', 'postgres', { per_branch: true }],
      ['cache', 'redis', {}],
      ['files', 'sqlite', {}],
    ]);
  });
});

describe('paasmaker.yml: application.workspace', () => {
  it('puts the app in a workspace when given, and says nothing of one when not (the app stays where it was moved)', () => {
    expect(loadManifest(project({ 'paasmaker.yml': lines('application:', '  name: shop', '  workspace: team-a', 'instances:', '  web: {command: x}') })).application).toEqual({ name: 'shop', workspace: 'team-a' });
    expect(loadManifest(project({ 'paasmaker.yml': lines('application: {name: shop}', 'instances:', '  web: {command: x}') })).application).toEqual({ name: 'shop' });
  });

  it('a workspace name that is not one is positioned at its value', () => {
    expect(errorOf(lines('application:', '  name: shop', '  workspace: "team a"', 'instances:', '  web: {command: x}')).message).toMatch(/^paasmaker\.yml:3:14: application\.workspace must be 1–63 letters, digits/);
    expect(errorOf(lines('application:', '  name: shop', '  workspce: a', 'instances:', '  web: {command: x}')).message).toBe('paasmaker.yml:3:3: unknown key "workspce" in application — did you mean "workspace"?');
  });
});

describe('paasmaker.yml: every mistake is positioned', () => {
  it('a misspelt key: position of the key, did-you-mean and a code frame', () => {
    const e = errorOf(lines('application:', '  name: shop', 'instances:', '  web:', '    startp: node migrate.js', '    command: node server.js'));
    expect(e.code).toBe('MANIFEST_INVALID');
    expect(e.message).toBe('paasmaker.yml:5:5: unknown key "startp" in instances.web — did you mean "startup"?');
    expect(e.detail).toContain('> 5 |     startp: node migrate.js');
    expect(e.detail).toMatch(/\n\s+\|     \^/);
    expect(e.hint).toContain('startup');
  });

  it('unknown keys at the top and in nested maps', () => {
    expect(errorOf(lines('application: {name: a}', 'instance:', '  web: {command: x}')).message).toBe(
      'paasmaker.yml:2:1: unknown key "instance" in the manifest — did you mean "instances"?',
    );
    expect(errorOf(lines('application: {name: a}', 'instances:', '  web:', '    command: x', '    health: {pth: /}')).message).toBe(
      'paasmaker.yml:5:14: unknown key "pth" in instances.web.health — did you mean "path"?',
    );
    expect(errorOf(lines('application: {name: a}', 'instances:', '  web:', '    command: x', '    runtime: {name: node, versoin: 20}')).message).toBe(
      'paasmaker.yml:5:27: unknown key "versoin" in instances.web.runtime — did you mean "version"?',
    );
  });

  it('wrong types point at the value', () => {
    expect(errorOf(lines('application: {name: a}', 'instances:', '  web:', '    command: x', '    quantity: three')).message).toBe(
      'paasmaker.yml:5:15: instances.web.quantity must be a whole number from 1 to 64 (got "three")',
    );
    expect(errorOf(lines('application: {name: a}', 'instances:', '  web:', '    command: x', '    standalone: yes please')).message).toBe(
      'paasmaker.yml:5:17: instances.web.standalone must be true or false (got "yes please")',
    );
    expect(errorOf(lines('application: {name: a}', 'instances:', '  web:', '    command: x', '    runtime: perl')).message).toMatch(
      /^paasmaker\.yml:5:14: instances\.web\.runtime must be .*node, python, php, ruby, static, shell.* \(got "perl"\)$/,
    );
  });

  it('port_flag: false is kept; another value is an error at the value', () => {
    const dir = project({ 'paasmaker.yml': lines('application: {name: a}', 'instances:', '  web:', '    command: npx vite', '    port_flag: false', '  api:', '    command: npx vite') });
    const manifest = loadManifest(dir);
    expect(manifest.instances.map((instance) => instance.portFlag)).toEqual([false, undefined]);
    expect(errorOf(lines('application: {name: a}', 'instances:', '  web:', '    command: x', '    port_flag: off please')).message).toBe(
      'paasmaker.yml:5:16: instances.web.port_flag must be true or false: false leaves the command as written, with no --port added (got "off please")',
    );
  });

  it('a misspelt runtime name gets a did-you-mean, at the value, written alone or as {name}', () => {
    expect(errorOf(lines('application: {name: a}', 'instances:', '  web:', '    command: x', '    runtime: pyhton')).message).toBe(
      'paasmaker.yml:5:14: instances.web.runtime must be a runtime name (node, python, php, ruby, static, shell) or {name, version} (got "pyhton") — did you mean "python"?',
    );
    expect(errorOf(lines('application: {name: a}', 'instances:', '  web:', '    command: x', '    runtime: {name: nodejs, version: 20}')).message).toBe(
      'paasmaker.yml:5:21: instances.web.runtime.name must be one of node, python, php, ruby, static, shell (got "nodejs") — did you mean "node"?',
    );
  });

  it("a runtime's own options sit beside name and version: unknown keys and bad values are positioned, with the keys it takes", () => {
    const bogus = errorOf(lines('application: {name: a}', 'instances:', '  web:', '    runtime: {name: php, bogus: 1}'));
    expect(bogus.message).toBe('paasmaker.yml:4:26: unknown key "bogus" in instances.web.runtime');
    expect(bogus.hint).toBe('instances.web.runtime takes: name, version, document_root, router, workers');
    expect(errorOf(lines('application: {name: a}', 'instances:', '  web:', '    runtime:', '      name: php', '      document_roots: public')).message).toBe(
      'paasmaker.yml:6:7: unknown key "document_roots" in instances.web.runtime — did you mean "document_root"?',
    );
    expect(errorOf(lines('application: {name: a}', 'instances:', '  web:', '    runtime: {name: php, workers: 0}')).message).toBe(
      'paasmaker.yml:4:35: instances.web.runtime.workers must be a whole number from 1 to 64 (got 0)',
    );
    // A runtime without options takes name and version only.
    const node = errorOf(lines('application: {name: a}', 'instances:', '  web:', '    command: node s.js', '    runtime: {name: node, document_root: public}'));
    expect(node.message).toBe('paasmaker.yml:5:27: unknown key "document_root" in instances.web.runtime');
    expect(node.hint).toBe('instances.web.runtime takes: name, version');
  });

  it('resolves the options onto the runtime; php may leave out the command, node may not', () => {
    const dir = project({ 'paasmaker.yml': lines('application: {name: a}', 'instances:', '  web:', '    runtime: {name: php, version: "8.2", document_root: public, workers: 2}', '  worker:', '    runtime: ruby', '    command: ruby worker.rb') });
    const [web, worker] = loadManifest(dir).instances;
    expect(web!.runtime).toEqual({ name: 'php', version: '8.2', options: { document_root: 'public', workers: 2 } });
    expect(web!.command).toBeUndefined();
    expect(worker!.runtime).toEqual({ name: 'ruby' });
    expect(errorOf(lines('application: {name: a}', 'instances:', '  web:', '    runtime: node')).message).toBe('paasmaker.yml:3:3: instances.web needs "command" (the launch command)');
  });

  it('infers php and ruby from the command', () => {
    const dir = project({ 'paasmaker.yml': lines('application: {name: a}', 'instances:', '  web: {command: "php artisan serve --port=$PORT"}', '  api: {command: bundle exec puma -p $PORT}', '  jobs: {command: ./run-jobs}') });
    expect(loadManifest(dir).instances.map((instance) => instance.runtime.name)).toEqual(['php', 'ruby', 'shell']);
  });

  it('bad names', () => {
    expect(errorOf(lines('application:', '  name: Shop App', 'instances:', '  web: {command: x}')).message).toBe(
      'paasmaker.yml:2:9: application.name must be 1–40 characters of a-z, 0-9 and "-" (got "Shop App")',
    );
    expect(errorOf(lines('application: {name: a}', 'instances:', '  Web: {command: x}')).message).toMatch(/^paasmaker\.yml:3:3: instance name "Web" must start with a-z/);
  });

  it('a bad environment variable name points at the name', () => {
    expect(errorOf(lines('application: {name: a}', 'instances:', '  web:', '    command: x', '    environment:', '      OK: 1', '      0K: v')).message).toBe(
      'paasmaker.yml:7:7: instances.web.environment key "0K" must be a variable name (letters, digits, _)',
    );
  });

  it('missing keys point at the map that needs them', () => {
    expect(errorOf(lines('application: {name: a}', 'instances:', '  web:', '    quantity: 2')).message).toBe(
      'paasmaker.yml:3:3: instances.web needs "command" (the launch command)',
    );
    expect(errorOf(lines('instances:', '  web: {command: x}')).message).toBe('paasmaker.yml:1:1: the manifest needs "application"');
  });

  it('duplicate keys, tabs, syntax errors, empty files and non-maps', () => {
    expect(errorOf(lines('application: {name: a}', 'instances:', '  web: {command: x}', '  web: {command: y}')).message).toMatch(/^paasmaker\.yml:4:3: duplicate key/);
    expect(errorOf('application:\n\tname: a\n').message).toMatch(/^paasmaker\.yml:2:1: tabs are not allowed for indentation; use spaces/);
    expect(errorOf(lines('application: {name: a', 'instances:')).message).toMatch(/^paasmaker\.yml:\d+:\d+: YAML syntax error/);
    const empty = errorOf('# nothing here\n');
    expect(empty.message).toBe('paasmaker.yml:1:1: the file is empty');
    expect(empty.hint).toContain('application:');
    expect(errorOf('- a\n- b\n').message).toMatch(/^paasmaker\.yml:1:1: the manifest must be a map/);
  });

  it('crons, depends_on and cycles', () => {
    expect(errorOf(lines('application: {name: a}', 'instances:', '  web:', '    command: x', '    crons: [{schedule: "* * * * *"}]')).message).toMatch(
      /^paasmaker\.yml:5:13: instances\.web\.crons\[0\] needs exactly one of "uri" or "command"/,
    );
    expect(errorOf(lines('application: {name: a}', 'instances:', '  web:', '    command: x', '    depends_on: [db]')).message).toMatch(
      /^paasmaker\.yml:5:18: instances\.web\.depends_on names "db", which is neither/,
    );
    const cycle = errorOf(lines('application: {name: a}', 'instances:', '  api:', '    command: x', '    depends_on: [web]', '  web:', '    command: y', '    depends_on: [api]'));
    expect(cycle.message).toBe('paasmaker.yml:5:5: depends_on makes a cycle: api -> web -> api');
  });

  it('restart policies and one-shots: defaults, and depends_on with a condition', () => {
    const dir = project({
      'paasmaker.yml': lines(
        'application: {name: a}',
        'instances:',
        '  migrate: {command: sh migrate.sh, oneshot: true}',
        '  seed: {command: sh seed.sh, oneshot: true, max_restarts: 2}',
        '  web:',
        '    command: x',
        '    depends_on:',
        '      migrate: {condition: completed}',
        '      seed:',
        '  worker: {command: y, restart: always, max_restarts: 5, depends_on: [migrate]}',
      ),
    });
    const [migrate, seed, web, worker] = loadManifest(dir).instances;
    expect(migrate).toMatchObject({ oneshot: true, standalone: true, restart: 'never', maxRestarts: undefined });
    expect(seed).toMatchObject({ oneshot: true, restart: 'on-failure', maxRestarts: 2 });
    expect(web).toMatchObject({ oneshot: false, standalone: false, restart: 'on-failure', depends_on: ['migrate', 'seed'] });
    expect(worker).toMatchObject({ restart: 'always', maxRestarts: 5, depends_on: ['migrate'] });
  });

  it('restart policies and one-shots: positioned errors with a hint', () => {
    const base = ['application: {name: a}', 'instances:', '  migrate: {command: m, oneshot: true}', '  web:', '    command: x'];
    const misspelt = errorOf(lines(...base, '    restart: on_failure'));
    expect(misspelt.message).toBe('paasmaker.yml:6:14: instances.web.restart must be one of always, on-failure, never (got "on_failure") — did you mean "on-failure"?');
    expect(errorOf(lines(...base, '    max_restarts: -1')).message).toBe('paasmaker.yml:6:19: instances.web.max_restarts must be a whole number from 0 to 1000 (got -1)');
    const never = errorOf(lines(...base, '    restart: never', '    max_restarts: 3'));
    expect(never.message).toBe('paasmaker.yml:7:5: instances.web.max_restarts has no effect with restart: never');
    expect(never.hint).toBe('remove max_restarts, or set restart: on-failure');
    const notOneshot = errorOf(lines(...base, '    depends_on: {worker: {condition: completed}}', '  worker: {command: w}'));
    expect(notOneshot.message).toBe('paasmaker.yml:6:38: instances.web.depends_on.worker: condition "completed" waits for a one-shot, and "worker" is not one: it runs until stopped');
    expect(notOneshot.hint).toBe('set oneshot: true on instances.worker, or use condition: ready');
    expect(errorOf(lines(...base, '    depends_on: {migrate: {condition: ready}}')).message).toBe(
      'paasmaker.yml:6:39: instances.web.depends_on.migrate: "migrate" is a one-shot, which is never ready: it completes',
    );
    expect(errorOf(lines(...base, '    depends_on: {migrate: {conditon: completed}}')).message).toBe(
      'paasmaker.yml:6:28: unknown key "conditon" in instances.web.depends_on.migrate — did you mean "condition"?',
    );
    expect(errorOf(lines(...base, '    depends_on: {migrate: {condition: done}}')).message).toBe('paasmaker.yml:6:39: instances.web.depends_on.migrate.condition must be ready or completed (got "done")');
    expect(errorOf(lines('application: {name: a}', 'instances:', '  migrate: {command: m, oneshot: true, restart: always}')).message).toBe(
      'paasmaker.yml:3:49: instances.migrate is a one-shot: restart: always would run it again and again',
    );
    expect(errorOf(lines('application: {name: a}', 'instances:', '  migrate:', '    command: m', '    oneshot: true', '    standalone: false')).message).toBe(
      'paasmaker.yml:6:5: instances.migrate is a one-shot (it runs to completion), which is never routed',
    );
  });

  it('a missing manifest names the folder and shows how to write one', () => {
    const dir = project({});
    expect(() => loadManifest(dir)).toThrow(/no paasmaker\.yml, manifest\.yml, Procfile or Procfile\.dev in/);
    try {
      loadManifest(dir);
    } catch (error) {
      expect((error as PaasmakerError).code).toBe('MANIFEST_NOT_FOUND');
      expect((error as PaasmakerError).hint).toContain('command: node server.js');
    }
  });
});

describe('paasmaker.yml: anchors, aliases and limits', () => {
  const web = (...rows: string[]) => lines('application: {name: a}', 'instances:', '  web:', '    command: x', ...rows);

  it('a billion-laughs alias bomb is refused at the alias that crosses the limit, not a crash', () => {
    const rows = ['application: {name: a}', 'instances:', '  web: {command: x}', 'services:', '  l0: &l0 {plugin: x, v: [a, a, a, a, a, a, a, a, a, a]}'];
    for (let level = 1; level <= 9; level++) rows.push(`  l${level}: &l${level} {plugin: x, v: [${Array(10).fill(`*l${level - 1}`).join(', ')}]}`);
    const e = errorOf(lines(...rows));
    expect(e.code).toBe('MANIFEST_INVALID');
    expect(e.message).toMatch(/^paasmaker\.yml:8:\d+: aliases repeat more than 10,000 values in this file/);
    expect(e.detail).toContain('> 8 |   l3:');
    expect(e.hint).toBe('use fewer aliases, or write the values out');
  });

  it('shared blocks through anchors still work: 100 aliases to one scalar, an environment used twice', () => {
    const many = lines('application: {name: a}', 'instances:', '  web:', '    command: x', '    environment: &env', '      GREETING: &hi hello', ...Array.from({ length: 100 }, (_, i) => `      K${i}: *hi`), '  api:', '    command: y', '    environment: *env');
    const manifest = parseManifest(many, '/tmp/a/paasmaker.yml');
    expect(manifest.instances[0]!.environment.K99).toBe('hello');
    expect(manifest.instances[1]!.environment).toEqual(manifest.instances[0]!.environment);
  });

  it("the platform's config.yml is read the same way: an alias bomb there is a positioned CONFIG_INVALID", () => {
    const home = project({ 'config.yml': lines('x0: &x0 [a, a, a, a, a, a, a, a, a, a]', ...Array.from({ length: 8 }, (_, n) => `x${n + 1}: &x${n + 1} [${Array(10).fill(`*x${n}`).join(', ')}]`), 'services: {}') });
    expect(() => loadConfig(home)).toThrow(PaasmakerError);
    try {
      loadConfig(home);
    } catch (error) {
      expect((error as PaasmakerError).code).toBe('CONFIG_INVALID');
      expect((error as PaasmakerError).message).toMatch(/config\.yml:4:\d+: aliases repeat more than 10,000 values in this file/);
    }
  });

  it('an alias inside the value it names, or to no anchor, or used as a key, is a positioned error', () => {
    expect(errorOf(web('    environment: &e {A: *e}')).message).toBe('paasmaker.yml:5:25: alias *e is inside the value it refers to');
    expect(errorOf(web('    environment: {A: *nowhere}')).message).toMatch(/^paasmaker\.yml:5:\d+: alias \*nowhere refers to no anchor/);
    expect(errorOf(web('    environment: {? [a, b] : c}')).message).toMatch(/^paasmaker\.yml:5:\d+: a key must be a plain word/);
  });

  it('deep nesting, NUL characters and YAML 1.1 types are positioned errors', () => {
    expect(errorOf(web(`    environment: {A: ${'['.repeat(80)}${']'.repeat(80)}}`)).message).toMatch(/^paasmaker\.yml:5:\d+: maps and lists nest/);
    expect(errorOf(web('    environment: {A: "x\\0y"}')).message).toMatch(/^paasmaker\.yml:5:\d+: this text holds a NUL character/);
    expect(errorOf(`%YAML 1.1\n---\n${web('    environment: {A: !!binary aGVsbG8=}')}`).message).toMatch(/^paasmaker\.yml:7:\d+: this YAML value \(binary data\) is not supported/);
  });

  it('an 18,000-key environment (490 KB) is read in linear time, and a duplicate among them is found', () => {
    const keys = Array.from({ length: 18_000 }, (_, i) => `      KEY_${i}: value-${i}`);
    const started = performance.now();
    const manifest = parseManifest(web('    environment:', ...keys), '/tmp/a/paasmaker.yml');
    expect(Object.keys(manifest.instances[0]!.environment)).toHaveLength(18_000);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(errorOf(web('    environment:', ...keys, '      KEY_7: again')).message).toBe('paasmaker.yml:18006:7: duplicate key: this key is already set above in the same map');
  });

  it('a file over 512 KB is refused before it is read', () => {
    const e = errorOf(`# ${'x'.repeat(512 * 1024)}\n`);
    expect(e.message).toBe('paasmaker.yml:1:1: this file is 524,291 bytes; Paasmaker reads files of up to 512 KB');
    expect(e.detail!.length).toBeLessThan(400);
  });
});

describe('paasmaker.yml: fields that reach HTTP requests', () => {
  const web = (...rows: string[]) => lines('application: {name: a}', 'instances:', '  web:', '    command: x', ...rows);

  it('a health path with a space is refused, with a hint to percent-encode it', () => {
    const e = errorOf(web('    health: {path: "/health check"}'));
    expect(e.message).toBe('paasmaker.yml:5:20: instances.web.health.path must be a URL path: no spaces, control characters or "#" (got "/health check")');
    expect(e.hint).toContain('a space is %20');
    for (const bad of ['"/a#b"', '"/é"', '"/a\\tb"', '"/%zz"', 'health']) expect(errorOf(web(`    health: {path: ${bad}}`)).message).toMatch(/^paasmaker\.yml:5:20: instances\.web\.health\.path must/);
    expect(parseManifest(web('    health: {path: "/health%20check?deep=1&x=~"}'), '/tmp/a/paasmaker.yml').instances[0]!.health.path).toBe('/health%20check?deep=1&x=~');
  });

  it('cron uris are paths too', () => {
    expect(errorOf(web('    crons: [{schedule: "* * * * *", uri: "/tasks/clean up"}]')).message).toMatch(/^paasmaker\.yml:5:\d+: instances\.web\.crons\[0\]\.uri must be a URL path/);
    expect(errorOf(web('    crons: [{schedule: "* * * * *", uri: "http://a.localhost/x"}]')).message).toMatch(/crons\[0\]\.uri must start with "\/"/);
  });

  it('hostnames are DNS names: no scheme, port, path or upper case', () => {
    for (const bad of ['http://a.localhost', 'a.localhost:8080', 'a.localhost/x', 'A.localhost', '*.*.localhost', 'a..localhost', `${'a'.repeat(64)}.localhost`, `${'a.'.repeat(127)}localhost`]) {
      const e = errorOf(web(`    hostnames: ["${bad}"]`));
      expect(e.message).toMatch(/^paasmaker\.yml:5:17: instances\.web\.hostnames\[0\] must be a lowercase hostname/);
      expect(e.hint).toContain('no scheme');
    }
    expect(parseManifest(web('    hostnames: [shop.localhost, "*.shop.localhost"]'), '/tmp/a/paasmaker.yml').instances[0]!.hostnames).toEqual(['shop.localhost', '*.shop.localhost']);
  });
});
