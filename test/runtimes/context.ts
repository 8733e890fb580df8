import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ResolvedInstance, ResolvedManifest, RuntimeName } from '../../src/manifest/types.js';
import type { RuntimeContext } from '../../runtimes/index.js';

/** A temporary folder with a project, a HOME and a PAASMAKER_HOME inside; removed by cleanup. */
export function sandbox(prefix = 'pm-rt-'): { root: string; project: string; home: string; pmHome: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const project = join(root, 'project');
  const home = join(root, 'home');
  const pmHome = join(root, 'paasmaker home');
  for (const dir of [project, home, pmHome]) mkdirSync(dir, { recursive: true });
  return { root, project, home, pmHome, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** A tiny executable that prints `output` whatever its arguments (and logs each call to `<file>.calls`). */
export function fakeBinary(file: string, output: string): string {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `#!/bin/sh\necho x >> '${file}.calls'\necho '${output}'\n`);
  chmodSync(file, 0o755);
  return file;
}

export function writeFile(file: string, text: string): string {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

export interface ContextOptions {
  project: string;
  pmHome: string;
  env: NodeJS.ProcessEnv;
  runtime: RuntimeName;
  version?: string;
  /** The runtime's own options, as the manifest's runtime map gives them. */
  options?: Record<string, unknown>;
  command?: string;
  root?: string;
  app?: string;
}

export function context(options: ContextOptions): RuntimeContext {
  const file = join(options.project, 'paasmaker.yml');
  const instance: ResolvedInstance = {
    name: 'web',
    runtime: { name: options.runtime, version: options.version, ...(options.options ? { options: options.options } : {}) },
    prepare: { commands: [], watch: [] },
    startup: [],
    command: options.command,
    root: options.root,
    quantity: 1,
    hostnames: [],
    environment: {},
    health: { timeout: 30, interval: 10, failures: 3 },
    standalone: false,
    depends_on: [],
    crons: [],
    watch: { enabled: false, ignore: [] },
    stopTimeout: 10,
    position: { file, line: 4, col: 5 },
  };
  const manifest: ResolvedManifest = {
    kind: 'paasmaker.yml',
    file,
    directory: options.project,
    application: { name: options.app ?? 'myapp' },
    instances: [instance],
    services: [],
    dotenv: { values: {} },
  };
  return { manifest, instance, home: options.pmHome, env: options.env };
}
