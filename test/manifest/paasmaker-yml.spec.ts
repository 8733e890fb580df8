import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadManifest, parseManifest } from '../../src/manifest/index.js';
import { PaasmakerError } from '../../src/shared/errors.js';

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
    expect(errorOf(lines('application: {name: a}', 'instances:', '  web:', '    command: x', '    runtime: ruby')).message).toMatch(
      /^paasmaker\.yml:5:14: instances\.web\.runtime must be .*node, python, static, shell.* \(got "ruby"\)$/,
    );
  });

  it('bad names', () => {
    expect(errorOf(lines('application:', '  name: Shop App', 'instances:', '  web: {command: x}')).message).toBe(
      'paasmaker.yml:2:9: application.name must be 1–40 characters of a-z, 0-9 and "-" (got "Shop App")',
    );
    expect(errorOf(lines('application: {name: a}', 'instances:', '  Web: {command: x}')).message).toMatch(/^paasmaker\.yml:3:3: instance name "Web" must start with a-z/);
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

  it('a missing manifest names the folder and shows how to write one', () => {
    const dir = project({});
    expect(() => loadManifest(dir)).toThrow(/no paasmaker\.yml, manifest\.yml or Procfile in/);
    try {
      loadManifest(dir);
    } catch (error) {
      expect((error as PaasmakerError).code).toBe('MANIFEST_NOT_FOUND');
      expect((error as PaasmakerError).hint).toContain('command: node server.js');
    }
  });
});
