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
 * The read-only view of the platform's state, for a face when no platform
 * runs: opens state.db for reading only (no migration, no write, no keeper,
 * no reaping), hands it to fn, closes it. Undefined when nothing has ever run here.
 */
export function readState<T>(fn: (state: State) => T): T | undefined {
  const file = homeLayout().stateDb;
  if (!existsSync(file)) return undefined;
  const state = State.openReadOnly(file);
  try {
    return fn(state);
  } catch (error) {
    // A file created by a platform that died before its first migration has no tables yet: nothing to read.
    if (error instanceof Error && /^no such table/.test(error.message)) return undefined;
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
  const { idleServers, serviceRows } = await import('../shared/service-rows.js');
  return serviceRows(readState((state) => state.services.list()) ?? [], idleServers(homeLayout().root));
}
