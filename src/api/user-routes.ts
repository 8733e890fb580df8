import { z } from 'zod';
import { Access, hashPassword, isBuiltInRole, localAdminName, newToken, verifyPassword } from '../auth/index.js';
import type { State, TokenRecord, UserRecord } from '../state/index.js';
import { PaasmakerError } from '../shared/errors.js';
import { NewTokenSchema, RemovedSchema, TokenSchema, UserSchema, type UserView } from '../shared/auth-views.js';
import { ConfirmQuerySchema, PasswordRequestSchema, TokenCreateRequestSchema, TokensQuerySchema, UserAddRequestSchema } from './auth-requests.js';
import type { ApiContext, Route } from './route.js';

export function userView(state: State, user: UserRecord): UserView {
  const roles = state.allocations.list({ user: user.name }).map((allocation) => (allocation.workspace === null ? allocation.role : `${allocation.role}@${allocation.workspace}`));
  return { name: user.name, password: user.password !== null, createdAt: user.createdAt, disabledAt: user.disabledAt, roles };
}

export function requireUser(state: State, name: string): UserRecord {
  const user = state.users.get(name);
  if (!user) throw new PaasmakerError('USER_NOT_FOUND', `no user named "${name}"`);
  return user;
}

/** A role a user may be given: built in or custom. */
export function requireRole(state: State, name: string): void {
  if (!isBuiltInRole(name) && !state.roles.get(name)) throw new PaasmakerError('ROLE_NOT_FOUND', `no role named "${name}"`);
}

export function requireWorkspace(state: State, name: string): void {
  if (!state.workspaces.get(name)) throw new PaasmakerError('WORKSPACE_NOT_FOUND', `no workspace named "${name}"`);
}

/** The user a caller acts as: theirs, or for the socket's owner the local administrator. */
function callerUser(context: ApiContext): string {
  return context.caller.kind === 'owner' ? localAdminName() : context.caller.user;
}

/**
 * A caller may manage their own tokens and password; anyone else's needs
 * USER_EDIT and, for what lets one act as that user (`acting`: a token, a
 * password), every permission that user holds: an editor cannot become an
 * administrator by minting the administrator a token.
 */
function requireSelfOrEditor(context: ApiContext, user: string, what: string, acting = false): void {
  if (user === callerUser(context)) return;
  if (!context.access.can('USER_EDIT')) {
    throw new PaasmakerError('FORBIDDEN', `${what} of user "${user}" needs the permission USER_EDIT (a user manages their own)`, { hint: 'a role holding USER_EDIT gives it (paasmaker role list)' });
  }
  if (acting && !context.access.covers(Access.of(context.platform.state, user))) {
    throw new PaasmakerError('FORBIDDEN', `${what} of user "${user}" would let the caller act with permissions it does not hold`, { hint: 'a user holding every permission of theirs (an administrator) can do it' });
  }
}

const tokenView = (token: TokenRecord) => ({ id: token.id, user: token.user, name: token.name, createdAt: token.createdAt, lastUsed: token.lastUsed });

/** Users and their API tokens. */
export const USER_ROUTES: Route[] = [
  {
    method: 'GET',
    path: '/api/v1/users',
    summary: 'Every user, with the roles they hold',
    permission: 'USER_LIST',
    response: z.array(UserSchema),
    handle: (context) => context.platform.state.users.list().map((user) => userView(context.platform.state, user)),
  },
  {
    method: 'POST',
    path: '/api/v1/users',
    summary: 'Add a user (a password of 8 characters or more lets them sign in to the console; a role, everywhere or in one workspace)',
    permission: 'USER_EDIT',
    request: UserAddRequestSchema,
    response: UserSchema,
    handle: async (context, _params, body) => {
      const { name, password, role, workspace } = body as z.infer<typeof UserAddRequestSchema>;
      const { state } = context.platform;
      if (state.users.get(name)) throw new PaasmakerError('ALREADY_EXISTS', `a user named "${name}" exists already`, { hint: `paasmaker role assign ${name} ROLE gives them a role` });
      if (workspace !== undefined && role === undefined) throw new PaasmakerError('INVALID_REQUEST', 'a workspace without a role gives nothing', { hint: 'add --role ROLE' });
      if (role !== undefined) {
        requireRole(state, role);
        // Giving a role is ROLE_ASSIGN's, here as in POST /api/v1/allocations.
        if (!context.access.can('ROLE_ASSIGN')) throw new PaasmakerError('FORBIDDEN', `giving user "${name}" the role "${role}" needs the permission ROLE_ASSIGN`, { hint: 'add the user without --role, and ask someone holding ROLE_ASSIGN to assign it' });
      }
      if (workspace !== undefined) requireWorkspace(state, workspace);
      const hash = password === undefined ? null : await hashPassword(password);
      state.transaction(() => {
        state.users.add(name, hash);
        if (role !== undefined) state.allocations.assign(name, role, workspace ?? null);
      });
      return userView(state, requireUser(state, name));
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/users/:user',
    summary: 'Remove a user; one who holds roles or tokens only with ?confirm=true (they go with them)',
    permission: 'USER_EDIT',
    query: ConfirmQuerySchema,
    response: RemovedSchema,
    handle: (context, params, _body, query: z.infer<typeof ConfirmQuerySchema>) => {
      const { state } = context.platform;
      const user = requireUser(state, params.user!);
      if (user.name === localAdminName()) throw new PaasmakerError('IN_USE', `"${user.name}" is the local administrator (the machine's user): it cannot be removed`, { hint: 'paasmaker user passwd removes or changes their password' });
      const also = [...userView(state, user).roles.map((role) => `role ${role}`), ...state.tokens.list(user.name).map((token) => `token ${token.id} (${token.name})`)];
      if (also.length > 0 && query.confirm !== 'true') {
        throw new PaasmakerError('CONFIRMATION_NEEDED', `user "${user.name}" holds ${also.join(', ')}: removing them removes those too`, { hint: `confirm with: paasmaker user remove ${user.name} --yes` });
      }
      state.users.remove(user.name);
      context.signIn.sessions.removeUser(user.name);
      return { removed: user.name, also };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/users/:user/password',
    summary: "Set (or with null remove) a user's password; their sessions end. A user may change their own; anyone else's needs USER_EDIT",
    permission: 'signed-in',
    request: PasswordRequestSchema,
    response: UserSchema,
    handle: async (context, params, body) => {
      const { state } = context.platform;
      const user = requireUser(state, params.user!);
      requireSelfOrEditor(context, user.name, 'the password', true);
      const { password, current } = body as z.infer<typeof PasswordRequestSchema>;
      // A browser session (a cookie that may have been taken) must not turn itself into lasting access: it proves the password first.
      const bySession = context.caller.kind === 'user' && context.caller.via === 'session' && context.caller.user === user.name;
      if (bySession && user.password !== null && (current === undefined || !(await verifyPassword(current, user.password)))) {
        throw new PaasmakerError('FORBIDDEN', 'changing your password from a console session needs the current one', { hint: 'send it as "current"' });
      }
      state.users.setPassword(user.name, password === null ? null : await hashPassword(password));
      context.signIn.sessions.removeUser(user.name);
      return userView(state, requireUser(state, user.name));
    },
  },
  {
    method: 'GET',
    path: '/api/v1/tokens',
    summary: "API tokens (never the tokens themselves): the caller's own, or with USER_EDIT everyone's (?user= one user's)",
    permission: 'signed-in',
    query: TokensQuerySchema,
    response: z.array(TokenSchema),
    handle: (context, _params, _body, query: z.infer<typeof TokensQuerySchema>) => {
      const editor = context.access.can('USER_EDIT');
      if (query.user !== undefined) requireSelfOrEditor(context, query.user, 'the tokens');
      return context.platform.state.tokens.list(query.user ?? (editor ? undefined : callerUser(context))).map(tokenView);
    },
  },
  {
    method: 'POST',
    path: '/api/v1/tokens',
    summary: 'Create an API token (for the caller, or with USER_EDIT for anyone): the answer holds the token, shown this once; only its sha256 is kept',
    permission: 'signed-in',
    request: TokenCreateRequestSchema,
    response: NewTokenSchema,
    handle: (context, _params, body) => {
      const { state } = context.platform;
      const request = body as z.infer<typeof TokenCreateRequestSchema>;
      const user = requireUser(state, request.user ?? callerUser(context));
      requireSelfOrEditor(context, user.name, 'a token', true);
      const { token, id, hash } = newToken();
      state.tokens.add({ id, user: user.name, name: request.name ?? 'cli', hash });
      return { ...tokenView(state.tokens.get(id)!), token };
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/tokens/:id',
    summary: 'Revoke an API token (the caller\'s own, or with USER_EDIT anyone\'s): it stops working at once',
    permission: 'signed-in',
    response: TokenSchema,
    handle: (context, params) => {
      const { state } = context.platform;
      const token = state.tokens.get(params.id!);
      if (!token) throw new PaasmakerError('TOKEN_NOT_FOUND', `no token ${params.id}`);
      requireSelfOrEditor(context, token.user, 'a token');
      state.tokens.revoke(token.id);
      return tokenView(token);
    },
  },
];
