import { PaasmakerError } from '../src/shared/errors.js';
import { registry } from '../src/shared/plugin-registry.js';
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

// The built-in runtimes, one line each, registered the way a plugin package's are.
for (const runtime of [nodeRuntime, pythonRuntime, phpRuntime, rubyRuntime, staticRuntime, shellRuntime]) registry.addRuntime(runtime, 'built-in');

/** Every runtime's name: the built-ins, then those config.yml's plugins added (a live list). */
export const runtimeNames: readonly string[] = registry.runtimeNames;

export function getRuntime(name: string): RuntimePlugin {
  // Registered as RuntimePlugin (the built-ins above, and plugins' after their shape is checked at load).
  const runtime = registry.runtime(name) as RuntimePlugin | undefined;
  if (!runtime) {
    throw new PaasmakerError('RUNTIME_UNKNOWN', `unknown runtime "${name}"; known runtimes: ${runtimeNames.join(', ')}${registry.failedNote()}`, {
      hint: `use one of: ${runtimeNames.join(', ')}`,
    });
  }
  return runtime;
}
