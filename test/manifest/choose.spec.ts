import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { chooseManifest, findManifest, loadManifest, reloadManifest, selectInstances } from '../../src/manifest/index.js';
import { PaasmakerError } from '../../src/shared/errors.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-choose-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

function refusal(run: () => unknown): PaasmakerError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PaasmakerError);
    return error as PaasmakerError;
  }
  throw new Error('expected a refusal');
}

const STACK = [
  'application: {name: shop}',
  'instances:',
  '  web: {command: node web.js, depends_on: [api, db]}',
  '  api: {command: node api.js, depends_on: [cache]}',
  '  cache: {command: node cache.js, standalone: true}',
  '  worker: {command: node worker.js, standalone: true}',
  'services:',
  '  db: postgres',
  '',
].join('\n');

describe('which manifest: Procfile first, then Procfile.dev; -f and $PAASMAKER_MANIFEST name another', () => {
  it('a folder with Procfile and Procfile.dev reads Procfile, as foreman, overmind and hivemind do; Procfile.dev alone is found', () => {
    const both = project({ Procfile: 'web: node web.js\n', 'Procfile.dev': 'web: node web.js --dev\nassets: node build.js --watch\n' });
    expect(findManifest(both)?.file).toBe(join(both, 'Procfile'));
    const dev = project({ 'Procfile.dev': 'web: node web.js --dev\nassets: node build.js --watch\n' });
    const manifest = loadManifest(dev);
    expect(manifest.file).toBe(join(dev, 'Procfile.dev'));
    expect(manifest.kind).toBe('Procfile');
    expect(manifest.instances.map((instance) => [instance.name, instance.standalone])).toEqual([['web', false], ['assets', true]]);
  });

  it('a file chosen is read by its name: any Procfile-named file, manifest.yml as the original format, paasmaker.yml otherwise', () => {
    const dir = project({
      Procfile: 'web: node web.js\n',
      'Procfile.dev': 'web: node web.js --dev\n',
      'paasmaker.dev.yml': 'application: {name: shop-dev}\ninstances:\n  web: {command: node web.js}\n',
    });
    const chosen = (file: string) => loadManifest(chooseManifest([dir], { path: file, from: `-f ${file}` }).path);
    expect(chosen('Procfile.dev').instances[0]!.command).toBe('node web.js --dev');
    expect(chosen('paasmaker.dev.yml').application.name).toBe('shop-dev');
    expect(chosen(join(dir, 'Procfile')).instances[0]!.command).toBe('node web.js');
  });

  it('a chosen file that is not there: where it came from, and the near name', () => {
    const dir = project({ 'Procfile.dev': 'web: node web.js\n' });
    const error = refusal(() => chooseManifest([dir], { path: 'Procfile.dve', from: 'PAASMAKER_MANIFEST=Procfile.dve' }));
    expect(error.code).toBe('MANIFEST_NOT_FOUND');
    expect(error.message).toBe(`PAASMAKER_MANIFEST=Procfile.dve names ${join(dir, 'Procfile.dve')}, which does not exist — did you mean "Procfile.dev"?`);
  });

  it("up's words: the folder first when it reads as one, instance types after it", () => {
    const here = project({ 'paasmaker.yml': STACK, 'web/index.html': '', 'other/Procfile': 'web: x\n' });
    const words = (...list: string[]) => chooseManifest(list, undefined, here);
    expect(words('web', 'worker')).toEqual({ path: here, instances: ['web', 'worker'], chosenFile: false });
    expect(words('.', 'web')).toEqual({ path: here, instances: ['web'], chosenFile: false });
    expect(words('other', 'web')).toEqual({ path: join(here, 'other'), instances: ['web'], chosenFile: false });
    expect(words('../x')).toEqual({ path: join(here, '..', 'x'), instances: [], chosenFile: false });
    // Nothing here names instances: the word is a folder, and a missing one says so when read.
    const empty = project({});
    expect(chooseManifest(['shop'], undefined, empty)).toEqual({ path: join(empty, 'shop'), instances: [], chosenFile: false });
  });
});

describe('selectInstances: up web worker', () => {
  it('keeps the named types and every type they depend on, in declaration order, with all services', () => {
    const manifest = loadManifest(project({ 'paasmaker.yml': STACK }));
    const web = selectInstances(manifest, ['web']);
    expect(web.instances.map((instance) => instance.name)).toEqual(['web', 'api', 'cache']);
    expect(web.services.map((service) => service.name)).toEqual(['db']);
    expect(web.only).toEqual(['web']);
    expect(selectInstances(manifest, ['worker', 'cache']).instances.map((instance) => instance.name)).toEqual(['cache', 'worker']);
    expect(selectInstances(manifest, [])).toBe(manifest);
  });

  it('an unknown type is refused with a did-you-mean and the types there are', () => {
    const dir = project({ 'paasmaker.yml': STACK });
    const error = refusal(() => selectInstances(loadManifest(dir), ['web', 'wroker']));
    expect(error.code).toBe('INSTANCE_NOT_FOUND');
    expect(error.message).toMatch(/paasmaker\.yml has no instance type "wroker" — did you mean "worker"\?$/);
    expect(error.hint).toBe('its instance types: web, api, cache, worker');
  });

  it('a reload reads the same file again and chooses the same types again', async () => {
    const dir = project({ 'Procfile.dev': 'web: node web.js\nworker: node worker.js\n', 'paasmaker.yml': STACK });
    const running = selectInstances(loadManifest(join(dir, 'Procfile.dev')), ['web']);
    writeFileSync(join(dir, 'Procfile.dev'), 'web: node web.js --changed\nworker: node worker.js\n');
    const next = await reloadManifest(running);
    expect(next.file).toBe(join(dir, 'Procfile.dev'));
    expect(next.instances.map((instance) => [instance.name, instance.command])).toEqual([['web', 'node web.js --changed']]);
  });
});
