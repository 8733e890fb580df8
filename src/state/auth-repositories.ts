import type { Db } from './database.js';

export interface UserRecord {
  name: string;
  /** The encoded scrypt hash; null when the user has no password. */
  password: string | null;
  createdAt: number;
  disabledAt: number | null;
}

export interface WorkspaceRecord {
  name: string;
  createdAt: number;
}

export interface RoleRecord {
  name: string;
  permissions: string[];
  createdAt: number;
}

export interface AllocationRecord {
  user: string;
  role: string;
  /** null: everywhere. */
  workspace: string | null;
  createdAt: number;
}

export interface TokenRecord {
  id: string;
  user: string;
  name: string;
  createdAt: number;
  lastUsed: number | null;
}

export class UsersRepository {
  constructor(private readonly db: Db) {}

  list(): UserRecord[] {
    return (this.db.prepare('SELECT name, password, created_at AS createdAt, disabled_at AS disabledAt FROM users ORDER BY name').all() as UserRecord[]);
  }

  get(name: string): UserRecord | undefined {
    return this.db.prepare('SELECT name, password, created_at AS createdAt, disabled_at AS disabledAt FROM users WHERE name = ?').get(name) as UserRecord | undefined;
  }

  add(name: string, password: string | null): void {
    this.db.prepare('INSERT INTO users (name, password, created_at) VALUES (?, ?, ?)').run(name, password, Date.now());
  }

  setPassword(name: string, password: string | null): void {
    this.db.prepare('UPDATE users SET password = ? WHERE name = ?').run(password, name);
  }

  /** Removes the user with their allocations and tokens. */
  remove(name: string): boolean {
    return this.db.prepare('DELETE FROM users WHERE name = ?').run(name).changes > 0;
  }
}

export class WorkspacesRepository {
  constructor(private readonly db: Db) {}

  list(): WorkspaceRecord[] {
    return this.db.prepare('SELECT name, created_at AS createdAt FROM workspaces ORDER BY name').all() as WorkspaceRecord[];
  }

  get(name: string): WorkspaceRecord | undefined {
    return this.db.prepare('SELECT name, created_at AS createdAt FROM workspaces WHERE name = ?').get(name) as WorkspaceRecord | undefined;
  }

  /** Adds it unless it exists; true when it was added. */
  ensure(name: string): boolean {
    return this.db.prepare('INSERT OR IGNORE INTO workspaces (name, created_at) VALUES (?, ?)').run(name, Date.now()).changes > 0;
  }

  /** The apps it holds, by name. */
  apps(name: string): string[] {
    return (this.db.prepare('SELECT name FROM apps WHERE workspace = ? ORDER BY name').all(name) as Array<{ name: string }>).map((row) => row.name);
  }

  /** Removes it and the allocations made in it. */
  remove(name: string): boolean {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM role_allocations WHERE workspace = ?').run(name);
      return this.db.prepare('DELETE FROM workspaces WHERE name = ?').run(name).changes > 0;
    })();
  }

  /** Puts an app in a workspace (made when missing). */
  moveApp(app: string, workspace: string): void {
    this.db.transaction(() => {
      this.ensure(workspace);
      this.db.prepare('UPDATE apps SET workspace = ? WHERE name = ?').run(workspace, app);
    })();
  }

  /** Each app's workspace. */
  appWorkspaces(): Map<string, string> {
    return new Map((this.db.prepare('SELECT name, workspace FROM apps').all() as Array<{ name: string; workspace: string }>).map((row) => [row.name, row.workspace]));
  }

  appWorkspace(app: string): string | undefined {
    return (this.db.prepare('SELECT workspace FROM apps WHERE name = ?').get(app) as { workspace: string } | undefined)?.workspace;
  }
}

type StoredRole = Omit<RoleRecord, 'permissions'> & { permissions: string };
const parsedRole = (row: StoredRole): RoleRecord => ({ ...row, permissions: JSON.parse(row.permissions) as string[] });

export class RolesRepository {
  constructor(private readonly db: Db) {}

  list(): RoleRecord[] {
    return (this.db.prepare('SELECT name, permissions, created_at AS createdAt FROM roles ORDER BY name').all() as StoredRole[]).map(parsedRole);
  }

  /** One role by name: asked for every allocation of every TCP request's caller, so one row, not the table. */
  get(name: string): RoleRecord | undefined {
    const row = this.db.prepare('SELECT name, permissions, created_at AS createdAt FROM roles WHERE name = ?').get(name) as StoredRole | undefined;
    return row && parsedRole(row);
  }

  add(name: string, permissions: readonly string[]): void {
    this.db.prepare('INSERT INTO roles (name, permissions, created_at) VALUES (?, ?, ?)').run(name, JSON.stringify(permissions), Date.now());
  }

  /** Removes the role and its allocations. */
  remove(name: string): boolean {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM role_allocations WHERE role = ?').run(name);
      return this.db.prepare('DELETE FROM roles WHERE name = ?').run(name).changes > 0;
    })();
  }
}

export class AllocationsRepository {
  constructor(private readonly db: Db) {}

  /** Every allocation, or one user's, or those of a role or a workspace. */
  list(filter: { user?: string; role?: string; workspace?: string } = {}): AllocationRecord[] {
    return (
      this.db
        .prepare(
          `SELECT user, role, workspace, created_at AS createdAt FROM role_allocations
           WHERE (@user IS NULL OR user = @user) AND (@role IS NULL OR role = @role) AND (@workspace IS NULL OR workspace = @workspace)
           ORDER BY user, workspace, role`,
        )
        .all({ user: filter.user ?? null, role: filter.role ?? null, workspace: filter.workspace ?? null }) as Array<Omit<AllocationRecord, 'workspace'> & { workspace: string }>
    ).map((row) => ({ ...row, workspace: row.workspace === '' ? null : row.workspace }));
  }

  /** True when it was added (false: the user held it already). */
  assign(user: string, role: string, workspace: string | null): boolean {
    return this.db.prepare('INSERT OR IGNORE INTO role_allocations (user, role, workspace, created_at) VALUES (?, ?, ?, ?)').run(user, role, workspace ?? '', Date.now()).changes > 0;
  }

  unassign(user: string, role: string, workspace: string | null): boolean {
    return this.db.prepare('DELETE FROM role_allocations WHERE user = ? AND role = ? AND workspace = ?').run(user, role, workspace ?? '').changes > 0;
  }
}

export class TokensRepository {
  constructor(private readonly db: Db) {}

  list(user?: string): TokenRecord[] {
    return this.db
      .prepare('SELECT id, user, name, created_at AS createdAt, last_used AS lastUsed FROM api_tokens WHERE (@user IS NULL OR user = @user) ORDER BY created_at')
      .all({ user: user ?? null }) as TokenRecord[];
  }

  get(id: string): TokenRecord | undefined {
    return this.db.prepare('SELECT id, user, name, created_at AS createdAt, last_used AS lastUsed FROM api_tokens WHERE id = ?').get(id) as TokenRecord | undefined;
  }

  add(token: { id: string; user: string; name: string; hash: string }): void {
    this.db.prepare('INSERT INTO api_tokens (id, user, name, hash, created_at) VALUES (@id, @user, @name, @hash, @now)').run({ ...token, now: Date.now() });
  }

  /** The token with this hash, its last use noted (at most once a minute: a write per request would cost). */
  use(hash: string): TokenRecord | undefined {
    const token = this.db.prepare('SELECT id, user, name, created_at AS createdAt, last_used AS lastUsed FROM api_tokens WHERE hash = ?').get(hash) as TokenRecord | undefined;
    const now = Date.now();
    if (token && (token.lastUsed === null || now - token.lastUsed > 60_000)) this.db.prepare('UPDATE api_tokens SET last_used = ? WHERE id = ?').run(now, token.id);
    return token;
  }

  revoke(id: string): boolean {
    return this.db.prepare('DELETE FROM api_tokens WHERE id = ?').run(id).changes > 0;
  }
}
