import { sep } from 'node:path';
import { getRuntime, runtimeNames } from '../../runtimes/index.js';
import type { RuntimeRow } from '../shared/views.js';

/** What a running instance type's runtime resolved to. */
export interface RuntimeChoice {
  app: string;
  instance: string;
  runtime: string;
  description: string;
}

/**
 * Every runtime: the versions installed on this machine (as each plugin
 * finds them in env), and the version each running instance resolved to.
 */
export async function runtimeRows(env: NodeJS.ProcessEnv, home: string, running: RuntimeChoice[]): Promise<RuntimeRow[]> {
  return Promise.all(
    runtimeNames.map(async (name) => ({
      name,
      installed: (await getRuntime(name).versions(env, home)).map(({ version, source, binDir }) => ({
        version,
        source,
        binDir,
        // The running instances whose interpreter is this one ("shop/web").
        usedBy: running.filter((choice) => choice.runtime === name && choice.description.includes(`(${binDir}${sep}`)).map((choice) => `${choice.app}/${choice.instance}`),
      })),
      instances: running
        .filter((choice) => choice.runtime === name)
        .map((choice) => ({ app: choice.app, instance: choice.instance, version: /\d+\.\d+(?:\.\d+)?/.exec(choice.description)?.[0] ?? null, description: choice.description })),
    })),
  );
}
