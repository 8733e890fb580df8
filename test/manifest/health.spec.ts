import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadManifest } from '../../src/manifest/index.js';
import { PaasmakerError } from '../../src/shared/errors.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function load(files: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'pm-health-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return loadManifest(dir);
}

function health(yaml: string) {
  return load({ 'paasmaker.yml': `application: {name: a}\ninstances:\n  web:\n    command: x\n    health: ${yaml}\n` }).instances[0]!.health;
}

function errorOf(yaml: string): string {
  try {
    health(yaml);
  } catch (error) {
    expect(error).toBeInstanceOf(PaasmakerError);
    return (error as PaasmakerError).message.replace(/^.*\//, '');
  }
  throw new Error('expected the manifest to be rejected');
}

describe('health: liveness keys', () => {
  it('interval and failures have defaults, in every manifest format', () => {
    expect(health('{path: /healthz}')).toEqual({ path: '/healthz', timeout: 10, interval: 10, failures: 3 });
    expect(load({ Procfile: 'web: node server.js\n' }).instances[0]!.health).toEqual({ timeout: 10, interval: 10, failures: 3 });
    expect(
      load({ 'manifest.yml': 'manifest: {format: 1}\napplication: {name: a}\ninstances:\n  - name: web\n    runtime: {plugin: paasmaker.runtime.shell, version: "1", parameters: {launch_command: ./run %(port)d}}\n' })
        .instances[0]!.health,
    ).toEqual({ timeout: 10, interval: 10, failures: 3 });
  });

  it('reads interval (seconds, fractions allowed) and failures', () => {
    expect(health('{timeout: 5, interval: 0.5, failures: 2}')).toEqual({ timeout: 5, interval: 0.5, failures: 2 });
  });

  it('a bad interval or failures count is a positioned error', () => {
    expect(errorOf('{interval: 0}')).toBe('paasmaker.yml:5:24: instances.web.health.interval must be more than 0 seconds (got 0)');
    expect(errorOf('{interval: soon}')).toBe('paasmaker.yml:5:24: instances.web.health.interval must be a number of seconds (got "soon")');
    expect(errorOf('{failures: 0}')).toBe('paasmaker.yml:5:24: instances.web.health.failures must be a whole number from 1 to 100 (got 0)');
    expect(errorOf('{failures: 1.5}')).toBe('paasmaker.yml:5:24: instances.web.health.failures must be a whole number from 1 to 100 (got 1.5)');
    expect(errorOf('{intervall: 3}')).toMatch(/^paasmaker\.yml:5:14: unknown key "intervall" in instances\.web\.health — did you mean "interval"\?/);
  });
});
