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
export async function runtimeRows(env: NodeJS.ProcessEnv, running: RuntimeChoice[]): Promise<RuntimeRow[]> {
  return Promise.all(
    runtimeNames.map(async (name) => ({
      name,
      installed: (await getRuntime(name).versions(env)).map(({ version, source, binDir }) => ({ version, source, binDir })),
      instances: running
        .filter((choice) => choice.runtime === name)
        .map((choice) => ({ app: choice.app, instance: choice.instance, version: /\d+\.\d+(?:\.\d+)?/.exec(choice.description)?.[0] ?? null, description: choice.description })),
    })),
  );
}
