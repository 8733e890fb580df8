import { userInfo } from 'node:os';
import type { State } from '../state/index.js';

/** The name of the machine's user, who owns the platform. */
export function localAdminName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'admin';
  }
}

/**
 * The state always has the local administrator: a user named after the
 * machine's user, admin everywhere, with no password (paasmaker console's
 * one-time link signs them in; paasmaker user passwd can give one).
 */
export function ensureLocalAdmin(state: State): string {
  const name = localAdminName();
  state.transaction(() => {
    if (!state.users.get(name)) state.users.add(name, null);
    state.allocations.assign(name, 'admin', null);
  });
  return name;
}
