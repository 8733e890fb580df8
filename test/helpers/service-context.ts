import { join } from 'node:path';
import { expect } from 'vitest';
import type { DataStep, ServiceContext, ServicePlugin, ServiceRequest } from '../../src/services/types.js';
import { PaasmakerError } from '../../src/shared/errors.js';
import { State } from '../../src/state/index.js';
import { Supervisor } from '../../src/supervisor/index.js';
import { sleep, tempHome } from './cli.js';
import { processesUnder } from './processes.js';

/**
 * A platform's service context in this process, in a fresh PAASMAKER_HOME:
 * real state, a real supervisor for managed servers. close() stops the
 * plugins' servers, waits for every process under the home to end, and
 * removes it.
 */
export function serviceContext(): { context: ServiceContext; lines: string[]; use: (plugin: ServicePlugin) => ServicePlugin; close: () => Promise<void> } {
  const { home, cleanup } = tempHome();
  const lines: string[] = [];
  const supervisor = new Supervisor();
  const state = State.open(join(home, 'state.db'));
  const plugins: ServicePlugin[] = [];
  const context: ServiceContext = { home, state, supervisor, env: process.env, say: (line) => lines.push(line) };
  return {
    context,
    lines,
    use: (plugin) => (plugins.push(plugin), plugin),
    close: async () => {
      for (const plugin of plugins) await plugin.stop?.();
      await supervisor.stopAll();
      state.close();
      const deadline = Date.now() + 10_000;
      while (processesUnder(home).length > 0 && Date.now() < deadline) await sleep(50);
      for (const pid of processesUnder(home)) process.kill(pid, 'SIGKILL');
      cleanup();
    },
  };
}

/** A request for one service, as Services makes it. */
export function serviceRequest(app: string, service: string, symbolic: string, options: Record<string, unknown> = {}): ServiceRequest {
  return { app, service, branch: '', symbolic, options };
}

/** Provisions through the plugin and records the service in state, as Services.provision does. */
export async function provisionService(context: ServiceContext, plugin: ServicePlugin, request: ServiceRequest) {
  const credentials = await plugin.provision(request, context);
  context.state.services.put({ app: request.app, service: request.service, branch: request.branch, plugin: plugin.name, symbolic: request.symbolic, resource: credentials.database ?? credentials.path ?? '' });
  return credentials;
}

/** A dump's or a restore's step that keeps the lines it is told. */
export function dataStep(): DataStep & { lines: string[] } {
  const lines: string[] = [];
  return { lines, say: (line) => lines.push(line) };
}

/** The PaasmakerError a promise is rejected with. */
export async function refusal(promise: Promise<unknown>): Promise<PaasmakerError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(PaasmakerError);
  return error as PaasmakerError;
}
