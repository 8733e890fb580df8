import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { codeFrame, didYouMean, displayPath, plainValues, PositionFinder } from '../manifest/index.js';
import { PaasmakerError } from '../shared/errors.js';
import { registry } from '../shared/plugin-registry.js';
import { PLUGIN_NAMES } from './registry.js';

/** A symbolic service name: which plugin, with which options. */
export interface SymbolConfig {
  plugin: string;
  options: Record<string, unknown>;
  /**
   * Why it cannot be used: its plugin is unknown while a plugin of `plugins:`
   * failed to load (it may be that plugin's), or its options are not what its
   * plugin's schema takes. Apps that use it fail with this error; the rest run.
   */
  unavailable?: { code: 'PLUGIN_FAILED' | 'CONFIG_INVALID'; message: string; hint?: string; detail?: string };
}

/** One entry of config.yml's `plugins:`, where it is written. */
export interface PluginEntry {
  spec: string;
  position: { line: number; col: number };
}

export interface PlatformConfig {
  file: string;
  services: Record<string, SymbolConfig>;
  /** The plugin packages it lists (npm names or paths), in order. */
  plugins: PluginEntry[];
  /** `per_branch: true`: every service without a per_branch of its own has a database per git branch (checkout). */
  perBranch?: boolean;
}

const NAME = /^[a-z][a-z0-9_-]{0,39}$/;

const schema = z.strictObject({
  per_branch: z.boolean({ error: 'must be true or false' }).optional(),
  plugins: z.array(z.string({ error: 'must be an npm package name or a path' }).min(1, { error: 'must not be empty' }), { error: 'must be a list of npm package names or paths' }).optional(),
  services: z
    .record(z.string().regex(NAME, { error: 'must be a-z, 0-9, "-" and "_", starting with a letter' }), z.looseObject({ plugin: z.string({ error: 'must name a plugin' }) }), {
      error: 'must be a map of symbolic names',
    })
    .optional(),
});

const EXAMPLE = 'plugins:\n  - paasmaker-plugin-memcached\nservices:\n  postgres:\n    plugin: postgres\n  pg-shared:\n    plugin: postgres-external\n    admin_url: postgres://postgres@127.0.0.1:5432/postgres';

/**
 * $PAASMAKER_HOME/config.yml: what the platform's owner names their services.
 * Missing means defaults only. Errors point at the line, as the manifest's do.
 */
export function loadConfig(home: string): PlatformConfig {
  const file = join(home, 'config.yml');
  if (!existsSync(file)) return { file, services: {}, plugins: [] };
  const text = readFileSync(file, 'utf8');
  const fail = (position: { line: number; col: number }, message: string, hint?: string) =>
    new PaasmakerError('CONFIG_INVALID', `${displayPath(file)}:${position.line}:${position.col}: ${message}`, { detail: codeFrame(text, position.line, position.col), hint });
  if (text.trim() === '') return { file, services: {}, plugins: [] };
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (doc.errors[0]) throw fail(lineCounter.linePos(doc.errors[0].pos[0]), `YAML syntax error: ${doc.errors[0].message.split('\n')[0]}`, 'check the indentation and quoting around this spot');
  if (doc.contents !== null && !isMap(doc.contents)) throw fail({ line: 1, col: 1 }, 'config.yml must be a map', `for example:\n${EXAMPLE.replace(/^/gm, '  ')}`);
  const where = new PositionFinder(doc, lineCounter, file);
  const data = (plainValues(doc, lineCounter, file, text, fail) ?? {}) as unknown;
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path as (string | number)[];
    if (issue.code === 'unrecognized_keys') throw fail(where.childKey(path, issue.keys[0]!), `unknown key "${issue.keys[0]}"`, `config.yml takes: plugins, services, per_branch\n${EXAMPLE.replace(/^/gm, '  ')}`);
    throw fail(where.value(path), `${path.join('.') || 'config'} ${issue.message}`, `for example:\n${EXAMPLE.replace(/^/gm, '  ')}`);
  }
  const services: Record<string, SymbolConfig> = {};
  for (const [name, raw] of Object.entries(parsed.data.services ?? {})) {
    const { plugin, ...options } = raw;
    if (!PLUGIN_NAMES.includes(plugin)) {
      const guess = didYouMean(plugin, PLUGIN_NAMES);
      const error = fail(where.value(['services', name, 'plugin']), `unknown plugin "${plugin}"${guess ? ` — did you mean "${guess}"?` : ''}`, `plugins: ${PLUGIN_NAMES.join(', ')}`);
      // Perhaps a plugin that failed to load provides it: only the apps that use it fail.
      if (registry.failed().length > 0) {
        services[name] = { plugin, options, unavailable: { code: 'PLUGIN_FAILED', message: `${error.message}${registry.failedNote()}`, hint: 'fix the plugin (paasmaker plugins says why it failed), then restart the platform', detail: error.detail } };
        continue;
      }
      throw error;
    }
    if (plugin.endsWith('-external') && plugin !== 'redis-external' && typeof options.admin_url !== 'string') {
      throw fail(where.key(['services', name]), `services.${name} uses ${plugin}, which needs admin_url`, `add: admin_url: ${plugin.startsWith('postgres') ? 'postgres://postgres@127.0.0.1:5432/postgres' : 'mysql://root@127.0.0.1:3306'}`);
    }
    // A plugin's own options, checked with the schema it declares.
    const declared = registry.service(plugin)?.options;
    if (declared) {
      const { per_branch: _perBranch, clone_from: _cloneFrom, ...own } = options;
      const checked = declared.strict().safeParse(own);
      if (!checked.success) {
        const issue = checked.error.issues[0]!;
        const path = ['services', name, ...(issue.path as (string | number)[])];
        const takes = `${plugin} takes: ${Object.keys(declared.shape).join(', ') || 'no options'}`;
        const error =
          issue.code === 'unrecognized_keys' ? fail(where.childKey(path, issue.keys[0]!), `unknown option "${issue.keys[0]}" in services.${name}`, takes) : fail(where.value(path), `${path.join('.')}: ${issue.message}`, takes);
        // Only the apps that use this name fail (a plugin's schema may be stricter than its author's README).
        services[name] = { plugin, options, unavailable: { code: 'CONFIG_INVALID', message: error.message, hint: error.hint, detail: error.detail } };
        continue;
      }
    }
    services[name] = { plugin, options };
  }
  const plugins = (parsed.data.plugins ?? []).map((spec, index) => ({ spec, position: where.value(['plugins', index]) }));
  return { file, services, plugins, perBranch: parsed.data.per_branch };
}

/**
 * Only the `plugins:` list of $PAASMAKER_HOME/config.yml, with positions:
 * read before the plugins load (the rest of the file may name what they
 * provide). A file that cannot be read gives none; loadConfig says why.
 */
export function pluginEntries(home: string): { file: string; plugins: PluginEntry[] } {
  const file = join(home, 'config.yml');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { file, plugins: [] };
  }
  if (!/^plugins\s*:/m.test(text)) return { file, plugins: [] };
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0 || !isMap(doc.contents)) return { file, plugins: [] };
  const where = new PositionFinder(doc, lineCounter, file);
  const list = doc.toJS() as { plugins?: unknown };
  if (!Array.isArray(list.plugins)) return { file, plugins: [] };
  return {
    file,
    plugins: list.plugins.flatMap((spec, index) => (typeof spec === 'string' && spec !== '' ? [{ spec, position: where.value(['plugins', index]) }] : [])),
  };
}
