import { PaasmakerError } from '../src/shared/errors.js';
import { nodeRuntime } from './node/index.js';
import { phpRuntime } from './php/index.js';
import { pythonRuntime } from './python/index.js';
import { rubyRuntime } from './ruby/index.js';
import { shellRuntime } from './shell/index.js';
import { staticRuntime } from './static/index.js';
import type { RuntimePlugin } from './types.js';

export type { InstallContext, RuntimeContext, RuntimeInstall, RuntimePlan, RuntimePlugin, RuntimeVersion } from './types.js';
export { installedVersions, installsRoot, removeInstalled, RuntimeNotInstalled } from './installs.js';
export { toRange } from './versions.js';

/** The registry: one line per runtime. */
const runtimes: Record<string, RuntimePlugin> = {
  node: nodeRuntime,
  python: pythonRuntime,
  php: phpRuntime,
  ruby: rubyRuntime,
  static: staticRuntime,
  shell: shellRuntime,
};

export const runtimeNames: readonly string[] = Object.freeze(Object.keys(runtimes));

export function getRuntime(name: string): RuntimePlugin {
  const runtime = Object.hasOwn(runtimes, name) ? runtimes[name] : undefined;
  if (!runtime) {
    throw new PaasmakerError('RUNTIME_UNKNOWN', `unknown runtime "${name}"; known runtimes: ${runtimeNames.join(', ')}`, {
      hint: `use one of: ${runtimeNames.join(', ')}`,
    });
  }
  return runtime;
}
