import { z } from 'zod';

/** What the auth routes take: users, roles, workspaces, tokens and sign-ins. */

/** A user, role or workspace name: what a command line and a URL carry without quoting. */
export const NAME = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit');

export const SignInRequestSchema = z.strictObject({ user: z.string().min(1).max(200), password: z.string().max(1024) }).meta({ id: 'SignInRequest' });

export const UserAddRequestSchema = z
  .strictObject({
    name: NAME,
    password: z.string().min(8, 'must be at least 8 characters').max(1024).optional().describe('none: the user signs in by API token only'),
    role: z.string().min(1).optional().describe('a role to give them'),
    workspace: z.string().min(1).optional().describe('that role in this workspace only (default: everywhere)'),
  })
  .meta({ id: 'UserAddRequest' });

export const PasswordRequestSchema = z
  .strictObject({
    password: z.string().min(8, 'must be at least 8 characters').max(1024).nullable().describe('null removes it'),
    current: z.string().max(1024).optional().describe('the password it replaces: needed when a user signed in by a console session changes their own'),
  })
  .meta({ id: 'PasswordRequest' });

export const ConfirmQuerySchema = z.strictObject({ confirm: z.enum(['true']).optional().describe('remove even when things depend on it (they go with it)') });

export const RoleAddRequestSchema = z.strictObject({ name: NAME, permissions: z.array(z.string()).min(1).max(64) }).meta({ id: 'RoleAddRequest' });

export const AllocationRequestSchema = z
  .strictObject({ user: z.string().min(1), role: z.string().min(1), workspace: z.string().min(1).nullable().optional().describe('null or absent: everywhere') })
  .meta({ id: 'AllocationRequest' });

export const WorkspaceAddRequestSchema = z.strictObject({ name: NAME }).meta({ id: 'WorkspaceAddRequest' });
export const WorkspaceMoveRequestSchema = z.strictObject({ workspace: NAME }).meta({ id: 'WorkspaceMoveRequest' });

export const TokenCreateRequestSchema = z
  .strictObject({ user: z.string().min(1).optional().describe('default: the caller'), name: z.string().min(1).max(100).optional().describe('what it is for (default "cli")') })
  .meta({ id: 'TokenCreateRequest' });

export const TokensQuerySchema = z.strictObject({ user: z.string().min(1).optional().describe("only this user's") });
