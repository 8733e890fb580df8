import { callApi } from '../api/client.js';
import { DEFAULT_TIMEOUT_MS, type ApiCaller } from '../mcp/api.js';
import { PaasmakerError } from '../shared/errors.js';
import { appPlatform, runningPlatform } from './running-platform.js';

/** The local administrator: the running platform's socket (the daemon's first), found again at every call. */
export function ownerCaller(): ApiCaller {
  return {
    async call<T>(method: string, path: string, options: { body?: unknown; app?: string; timeoutMs?: number } = {}): Promise<T> {
      const socket = runningPlatform();
      if (!socket) throw new PaasmakerError('PLATFORM_UNREACHABLE', 'no Paasmaker platform runs on this machine (for this PAASMAKER_HOME)', { hint: 'start one: paasmaker daemon start, then paasmaker up -d DIR' });
      const target = options.app ? ((await appPlatform(socket, options.app).catch(() => undefined)) ?? socket) : socket;
      return callApi<T>(target, method, path, options.body, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    },
  };
}
