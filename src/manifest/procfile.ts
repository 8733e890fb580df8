import { basename } from 'node:path';
import { manifestError } from './positions.js';
import { HEALTH_DEFAULTS, inferRuntime } from './paasmaker-yml.js';
import { PART_NAME } from './schema.js';
import type { ResolvedInstance, ResolvedManifest } from './types.js';

const RELEASE = 'release';

/** The app name a Procfile project gets: its folder's name, made into a valid name. */
export function appNameFromFolder(directory: string): string {
  const name = basename(directory)
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return name || 'app';
}

/**
 * foreman's Procfile: `type: command` per line; `web` is routed, every other
 * type is standalone. `release` is Heroku's release phase: a one-shot that
 * every other type waits for, and whose failure keeps them from starting.
 */
export function parseProcfile(text: string, file: string, directory: string): Omit<ResolvedManifest, 'dotenv'> {
  const instances: ResolvedInstance[] = [];
  const names = new Set<string>();
  const lines = text.split(/\r?\n/);
  lines.forEach((line, index) => {
    if (line.trim() === '' || line.trim().startsWith('#')) return;
    const match = /^([A-Za-z0-9_-]+):\s*(.*)$/.exec(line);
    const position = { file, line: index + 1, col: 1 };
    if (!match) throw manifestError(file, text, position, 'expected "type: command"', 'each line names a process type and its command, e.g.  web: node server.js');
    const [, type, command] = match as unknown as [string, string, string];
    if (command.trim() === '') throw manifestError(file, text, { ...position, col: type.length + 2 }, `process type "${type}" has no command`);
    const name = type.toLowerCase();
    if (names.has(name)) throw manifestError(file, text, position, `process type "${type}" is declared twice`);
    if (!/^[a-z]/.test(name)) throw manifestError(file, text, position, `process type "${type}" must start with a letter`);
    if (!PART_NAME.test(name)) throw manifestError(file, text, position, `process type "${type}" is longer than 40 characters`);
    if (command.includes('\0')) throw manifestError(file, text, { ...position, col: line.indexOf('\0') + 1 }, 'this command holds a NUL character (\\0), which no command can carry', 'remove the \\0');
    names.add(name);
    instances.push({
      name,
      runtime: { name: inferRuntime(command) },
      prepare: { commands: [], watch: [] },
      startup: [],
      command: command.trim(),
      quantity: 1,
      hostnames: [],
      environment: {},
      health: { ...HEALTH_DEFAULTS },
      standalone: name !== 'web',
      depends_on: [],
      restart: name === RELEASE ? 'never' : 'on-failure',
      oneshot: name === RELEASE,
      crons: [],
      watch: { enabled: true, ignore: [] },
      stopTimeout: 5,
      placement: { tags: {}, spread: false },
      position,
    });
  });
  if (names.has(RELEASE)) for (const instance of instances) if (instance.name !== RELEASE) instance.depends_on.push(RELEASE);
  if (instances.length === 0) throw manifestError(file, text, { line: 1, col: 1 }, 'the Procfile declares no process types', 'add a line such as:  web: node server.js');
  return { kind: 'Procfile', file, directory, application: { name: appNameFromFolder(directory) }, instances, services: [] };
}
