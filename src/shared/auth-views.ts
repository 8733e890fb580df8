import { z } from 'zod';

/** What the API answers about users, roles, workspaces, tokens and sessions (the auth routes'). */

const permissions = z.array(z.string()).describe('permission names (paasmaker role list --json shows each role\'s)');

export const SessionViewSchema = z
  .object({
    user: z.string().describe('the signed-in user; for the Unix socket\'s owner, the local administrator'),
    owner: z.boolean().describe('true for the Unix socket\'s owner: every permission'),
    csrf: z.string().describe('send as x-csrf-token with every state-changing request signed in by the session cookie; "" for other callers'),
    global: permissions.describe('permissions held everywhere'),
    workspaces: z.record(z.string(), permissions).describe('permissions held in one workspace, by workspace'),
  })
  .meta({ id: 'SessionView' });
export type SessionView = z.infer<typeof SessionViewSchema>;

export const SignedInSchema = z.object({ user: z.string() }).meta({ id: 'SignedIn' });
export const SignedOutSchema = z.object({ signedOut: z.boolean().describe('false when the caller had no session') }).meta({ id: 'SignedOut' });
export const SignInLinkSchema = z
  .object({ path: z.string().describe('"/signin?code=…": opened once within 2 minutes, it signs the local administrator in'), expiresAt: z.number().describe('epoch ms') })
  .meta({ id: 'SignInLink' });

export const UserSchema = z
  .object({
    name: z.string(),
    password: z.boolean().describe('whether the user has a password (they may sign in with it)'),
    createdAt: z.number().describe('epoch ms'),
    disabledAt: z.number().nullable().describe('epoch ms; null while the user may sign in'),
    roles: z.array(z.string()).describe('"role" held everywhere, "role@workspace" held in one'),
  })
  .meta({ id: 'User' });
export type UserView = z.infer<typeof UserSchema>;

export const RoleSchema = z.object({ name: z.string(), builtIn: z.boolean().describe('admin, developer and viewer: not editable, not removable'), permissions }).meta({ id: 'Role' });
export type RoleView = z.infer<typeof RoleSchema>;

export const AllocationSchema = z
  .object({ user: z.string(), role: z.string(), workspace: z.string().nullable().describe('null: everywhere'), createdAt: z.number().describe('epoch ms') })
  .meta({ id: 'Allocation' });
export type AllocationView = z.infer<typeof AllocationSchema>;

export const WorkspaceSchema = z.object({ name: z.string(), createdAt: z.number().describe('epoch ms'), apps: z.array(z.string()) }).meta({ id: 'Workspace' });
export type WorkspaceView = z.infer<typeof WorkspaceSchema>;

export const TokenSchema = z
  .object({ id: z.string(), user: z.string(), name: z.string(), createdAt: z.number().describe('epoch ms'), lastUsed: z.number().nullable().describe('epoch ms, to the minute; null: never used') })
  .meta({ id: 'Token' });
export type TokenView = z.infer<typeof TokenSchema>;

export const NewTokenSchema = TokenSchema.extend({ token: z.string().describe('the token itself: shown this once, only its hash is kept') }).meta({ id: 'NewToken' });

export const RemovedSchema = z.object({ removed: z.string(), also: z.array(z.string()).describe('what went with it (allocations, tokens)') }).meta({ id: 'Removed' });
