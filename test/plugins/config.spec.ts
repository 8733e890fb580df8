import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, pluginEntries } from '../../src/services/config.js';
import { tempHome } from '../helpers/cli.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function home(config: string): string {
  const { home, cleanup } = tempHome();
  cleanups.push(cleanup);
  writeFileSync(join(home, 'config.yml'), config);
  return home;
}

describe("config.yml's plugins:", () => {
  it('lists npm names and paths with their positions, in order', () => {
    const dir = home('# mine\nplugins:\n  - paasmaker-plugin-memcached\n  - ./local/thing\n');
    expect(pluginEntries(dir).plugins).toEqual([
      { spec: 'paasmaker-plugin-memcached', position: expect.objectContaining({ line: 3, col: 5 }) },
      { spec: './local/thing', position: expect.objectContaining({ line: 4, col: 5 }) },
    ]);
    expect(loadConfig(dir).plugins.map((entry) => entry.spec)).toEqual(['paasmaker-plugin-memcached', './local/thing']);
  });

  it('a plugins: that is not a list of names is a positioned error with an example', () => {
    expect(() => loadConfig(home('plugins: paasmaker-plugin-memcached\n'))).toThrow(/config\.yml:1:10: plugins must be a list of npm package names or paths/);
    expect(() => loadConfig(home('plugins:\n  - 42\n'))).toThrow(/config\.yml:2:5: plugins\.0 must be an npm package name or a path/);
    try {
      loadConfig(home('plugin:\n  - x\n'));
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toMatch(/config\.yml:1:1: unknown key "plugin"/);
      expect((error as { hint?: string }).hint).toContain('config.yml takes: plugins, services');
    }
  });

  it('an unknown service plugin with no failed plugin is still an error at its line', () => {
    expect(() => loadConfig(home('services:\n  cache:\n    plugin: memcachd\n'))).toThrow(/config\.yml:3:13: unknown plugin "memcachd"/);
  });
});
