import { existsSync, readFileSync, statSync } from 'node:fs';
import { register } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { codeFrame, displayPath } from '../manifest/index.js';
import { pluginEntries, type PluginEntry } from '../services/config.js';
import { PaasmakerError } from '../shared/errors.js';
import type { PluginSpec } from '../plugin/index.js';
import { registry, type PluginRecord } from '../shared/plugin-registry.js';

/** $PAASMAKER_HOME/plugins: where `paasmaker plugins add` installs packages, and where names resolve. */
export const pluginsDir = (home: string) => join(home, 'plugins');

const loads = new Map<string, Promise<PluginRecord[]>>();
const LOAD_TIMEOUT_MS = 10_000;
/** A runtime's or a service's name: it becomes part of paths (services/<name>) and process ids. */
const NAME = /^[a-z][a-z0-9_-]{0,39}$/;
let hooked = false;

/**
 * Loads the plugins config.yml lists (once per process and home) into the
 * registry, built-ins first. Never throws: a plugin that cannot be loaded is
 * recorded as failed, with a message positioned in config.yml, and the others load.
 */
export function loadPlugins(home: string): Promise<PluginRecord[]> {
  let loading = loads.get(home);
  if (!loading) loads.set(home, (loading = load(home)));
  return loading;
}

async function load(home: string): Promise<PluginRecord[]> {
  // The built-ins register on import: a plugin's names are checked against them.
  await Promise.all([import('../../runtimes/index.js'), import('../services/registry.js')]);
  const { file, plugins } = pluginEntries(home);
  if (plugins.length === 0) return [];
  // node:module's register() came with Node 20.6; before it, a plugin finds paasmaker/plugin only in its own node_modules.
  if (!hooked && typeof register === 'function') {
    hooked = true;
    register(new URL('./hooks.js', import.meta.url), { data: { entry: new URL('../plugin/index.js', import.meta.url).href } });
  }
  const records: PluginRecord[] = [];
  for (const entry of plugins) {
    const record = await loadOne(home, file, entry);
    registry.record(record);
    records.push(record);
  }
  return records;
}

function isPath(spec: string): boolean {
  return spec.startsWith('./') || spec.startsWith('../') || spec.startsWith('/') || spec.startsWith('~/') || spec === '.' || spec === '..';
}

/** A package folder's entry module: exports["."] (import/default), main, or index.js. */
function packageEntry(dir: string): { file: string; name?: string; version?: string } {
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest)) return { file: join(dir, 'index.js') };
  const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string; main?: string; exports?: unknown };
  const pick = (value: unknown): string | undefined => {
    if (typeof value === 'string') return value;
    if (value && typeof value === 'object') {
      const conditions = value as Record<string, unknown>;
      return pick(conditions['.']) ?? pick(conditions.import) ?? pick(conditions.node) ?? pick(conditions.default);
    }
    return undefined;
  };
  return { file: join(dir, pick(pkg.exports) ?? pkg.main ?? 'index.js'), name: pkg.name, version: pkg.version };
}

function locate(home: string, configFile: string, spec: string): { file: string; origin: string; version?: string; name?: string } {
  if (isPath(spec)) {
    const path = spec.startsWith('~/') ? join(process.env.HOME ?? '', spec.slice(2)) : resolve(dirname(configFile), spec);
    if (!existsSync(path)) throw new PaasmakerError('PLUGIN_FAILED', `${path} does not exist`, { hint: 'a path is relative to config.yml; or give an npm package name' });
    if (statSync(path).isDirectory()) {
      const found = packageEntry(path);
      return { ...found, origin: `path ${spec}` };
    }
    return { file: path, origin: `path ${spec}` };
  }
  const dir = join(pluginsDir(home), 'node_modules', spec);
  if (!existsSync(dir)) throw new PaasmakerError('PLUGIN_FAILED', `the package "${spec}" is not installed in ${join(pluginsDir(home), 'node_modules')}`, { hint: `install it: paasmaker plugins add ${spec}` });
  const found = packageEntry(dir);
  return { ...found, origin: `package ${spec}${found.version ? `@${found.version}` : ''}` };
}

/**
 * A zod 4 object schema, which the manifest's and config.yml's checks can
 * extend: one from another zod (a plugin's own zod 3) has other internals,
 * and would fail only when a manifest first used it.
 */
const isObjectSchema = (value: unknown): boolean =>
  typeof value === 'object' &&
  value !== null &&
  '_zod' in value &&
  typeof (value as { safeParse?: unknown }).safeParse === 'function' &&
  typeof (value as { strict?: unknown }).strict === 'function' &&
  typeof (value as { shape?: unknown }).shape === 'object';

/** What a plugin module exports, checked: a definePlugin() value. */
function specOf(module: Record<string, unknown>): PluginSpec {
  const spec = (module.default ?? module.plugin) as PluginSpec | undefined;
  const problem = (what: string) => new PaasmakerError('PLUGIN_FAILED', `it is not a plugin: ${what}`, { hint: "its module's default export must be definePlugin({name, runtimes?, services?}) from 'paasmaker/plugin'" });
  if (!spec || typeof spec !== 'object') throw problem('no default export');
  if (typeof spec.name !== 'string' || spec.name === '') throw problem('no name');
  for (const runtime of spec.runtimes ?? []) {
    if (!runtime || typeof runtime.name !== 'string' || typeof runtime.plan !== 'function' || typeof runtime.versions !== 'function') throw problem('a runtime needs name, plan() and versions()');
    if (runtime.options !== undefined && !isObjectSchema(runtime.options)) throw problem(`the options of the runtime "${runtime.name}" must be a zod 4 object schema: z.object({...}) with the z that paasmaker/plugin exports`);
    if (!NAME.test(runtime.name)) throw problem(`the runtime name "${runtime.name}" must be a-z, 0-9, "-" and "_", starting with a letter`);
  }
  for (const [name, service] of Object.entries(spec.services ?? {})) {
    if (!service || typeof service.factory !== 'function') throw problem(`the service "${name}" has no factory`);
    if (!NAME.test(name)) throw problem(`the service name "${name}" must be a-z, 0-9, "-" and "_", starting with a letter`);
    if (service.options !== undefined && !isObjectSchema(service.options)) throw problem(`the options of the service "${name}" must be a zod 4 object schema: z.object({...}) with the z that paasmaker/plugin exports`);
  }
  return spec;
}

async function loadOne(home: string, configFile: string, entry: PluginEntry): Promise<PluginRecord> {
  let origin = isPath(entry.spec) ? `path ${entry.spec}` : `package ${entry.spec}`;
  let name = entry.spec;
  let version: string | undefined;
  try {
    const found = locate(home, configFile, entry.spec);
    origin = found.origin;
    version = found.version;
    name = found.name ?? name;
    let module: Record<string, unknown>;
    try {
      let timer: NodeJS.Timeout | undefined;
      const stuck = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`it did not finish loading within ${LOAD_TIMEOUT_MS / 1000} s (a top-level await that never ends?)`)), LOAD_TIMEOUT_MS);
        timer.unref();
      });
      module = (await Promise.race([import(pathToFileURL(found.file).href), stuck]).finally(() => clearTimeout(timer))) as Record<string, unknown>;
    } catch (error) {
      throw new PaasmakerError('PLUGIN_FAILED', `loading ${displayPath(found.file)} threw: ${(error as Error).message ?? String(error)}`, { hint: 'fix the plugin, or remove it from config.yml; the rest of the platform runs without it' });
    }
    const spec = specOf(module);
    name = spec.name;
    version = spec.version ?? version;
    const runtimes = spec.runtimes ?? [];
    const services = Object.entries(spec.services ?? {});
    // All or nothing: every name is checked before any is registered.
    const names = new Set<string>();
    for (const runtime of runtimes) {
      registry.checkFree('runtime', runtime.name);
      if (names.has(`runtime ${runtime.name}`)) throw new PaasmakerError('PLUGIN_CLASH', `it names two runtimes "${runtime.name}"`);
      names.add(`runtime ${runtime.name}`);
    }
    for (const [service] of services) registry.checkFree('service', service);
    for (const runtime of runtimes) registry.addRuntime(runtime, origin);
    for (const [service, declared] of services) registry.addService(service, declared.factory, origin, { options: declared.options, summary: declared.summary });
    return { name, origin, version, runtimes: runtimes.map((runtime) => runtime.name), services: services.map(([service]) => service), state: 'loaded' };
  } catch (error) {
    const known = error instanceof PaasmakerError;
    const message = `${displayPath(configFile)}:${entry.position.line}:${entry.position.col}: plugin "${entry.spec}" failed to load: ${known ? error.message : String((error as Error).stack ?? error)}`;
    return {
      name,
      origin,
      version,
      runtimes: [],
      services: [],
      state: 'failed',
      error: message,
      hint: known && error.hint ? error.hint : 'fix the plugin, or remove it from config.yml; the rest of the platform runs without it',
    };
  }
}

/** A failed plugin as an error to print: positioned, with config.yml's lines around it. */
export function failureError(record: PluginRecord, configFile: string): PaasmakerError {
  const text = existsSync(configFile) ? readFileSync(configFile, 'utf8') : '';
  const at = /:(\d+):(\d+): /.exec(record.error ?? '');
  return new PaasmakerError('PLUGIN_FAILED', record.error ?? `plugin ${record.name} failed to load`, {
    hint: record.hint,
    detail: at && text ? codeFrame(text, Number(at[1]), Number(at[2])) : undefined,
  });
}
