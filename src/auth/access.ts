import type { State } from '../state/index.js';
import { isPermission, PERMISSION_NAMES, type Permission } from './permissions.js';
import { rolePermissions } from './roles.js';

/** Who is asking: the Unix socket's owner (the platform's administrator), or a user by token or session. */
export type Caller = { kind: 'owner' } | { kind: 'user'; user: string; via: 'token' | 'session' };

/** What a caller may do: permissions held everywhere, and those held in one workspace. */
export class Access {
  private constructor(
    readonly global: ReadonlySet<Permission>,
    readonly workspaces: ReadonlyMap<string, ReadonlySet<Permission>>,
  ) {}

  /** A caller who has not signed in (signing in is all they may do). */
  static nothing(): Access {
    return new Access(new Set(), new Map());
  }

  static everything(): Access {
    return new Access(new Set(PERMISSION_NAMES), new Map());
  }

  /** A user's, from their role allocations (nothing for a user that does not exist or is disabled). */
  static of(state: State, user: string): Access {
    const record = state.users.get(user);
    const global = new Set<Permission>();
    const workspaces = new Map<string, Set<Permission>>();
    if (!record || record.disabledAt !== null) return new Access(global, workspaces);
    for (const allocation of state.allocations.list({ user })) {
      const permissions = (rolePermissions(state, allocation.role) ?? []).filter((name) => isPermission(name));
      const into = allocation.workspace === null ? global : (workspaces.get(allocation.workspace) ?? workspaces.set(allocation.workspace, new Set()).get(allocation.workspace)!);
      for (const permission of permissions) into.add(permission);
    }
    return new Access(global, workspaces);
  }

  /** Held everywhere, or in this workspace. */
  can(permission: Permission, workspace?: string | null): boolean {
    return this.global.has(permission) || (workspace != null && (this.workspaces.get(workspace)?.has(permission) ?? false));
  }

  /** Held everywhere or in at least one workspace. */
  canSomewhere(permission: Permission): boolean {
    return this.global.has(permission) || [...this.workspaces.values()].some((held) => held.has(permission));
  }

  /** Everything `other` may do, this may do too: acting as another user (their token, their password) must not raise anyone. */
  covers(other: Access): boolean {
    if ([...other.global].some((permission) => !this.global.has(permission))) return false;
    return [...other.workspaces].every(([workspace, held]) => [...held].every((permission) => this.can(permission, workspace)));
  }

  /** The permissions, as GET /api/v1/session gives them. */
  summary(): { global: Permission[]; workspaces: Record<string, Permission[]> } {
    const sorted = (set: ReadonlySet<Permission>) => PERMISSION_NAMES.filter((name) => set.has(name));
    return { global: sorted(this.global), workspaces: Object.fromEntries([...this.workspaces].map(([name, set]) => [name, sorted(set)])) };
  }
}
