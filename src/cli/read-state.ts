import { existsSync } from 'node:fs';
import { homeLayout } from '../shared/paths.js';
import type { ServiceRow } from '../shared/views.js';
import { explainStateError, State } from '../state/index.js';

export type { JobRecord, State } from '../state/index.js';

/** Opens state.db, checks the whole file and closes it: damage is a clear error before anything starts. */
export function checkState(file: string): void {
  State.open(file, { fullCheck: true }).close();
}

/**
 * Reads the platform's state without starting anything: opens state.db,
 * hands it to fn, closes it. Undefined when nothing has ever run here.
 */
export function readState<T>(fn: (state: State) => T): T | undefined {
  const file = homeLayout().stateDb;
  if (!existsSync(file)) return undefined;
  const state = State.open(file);
  try {
    return fn(state);
  } catch (error) {
    // A large file is not checked whole at open: damage can show while reading it.
    throw explainStateError(file, error);
  } finally {
    state.close();
  }
}

/**
 * The services as `paasmaker services` lists them when no platform runs:
 * what state.db records, and each managed server stopped (it dies with the
 * platform that started it).
 */
export async function readServiceRows(): Promise<ServiceRow[]> {
  const { idleServers, serviceRows } = await import('../engine/index.js');
  return serviceRows(readState((state) => state.services.list()) ?? [], idleServers(homeLayout().root));
}
