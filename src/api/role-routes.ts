import { z } from 'zod';
import { allRoles, isBuiltInRole, isPermission, localAdminName, PERMISSION_NAMES } from '../auth/index.js';
import { PaasmakerError } from '../shared/errors.js';
import { AllocationSchema, RemovedSchema, RoleSchema } from '../shared/auth-views.js';
import { AllocationRequestSchema, ConfirmQuerySchema, RoleAddRequestSchema } from './auth-requests.js';
import type { Route } from './route.js';
import { requireRole, requireUser, requireWorkspace } from './user-routes.js';

const AllocationsQuerySchema = z.strictObject({ user: z.string().min(1).optional().describe("only this user's") });

/** The closest permission name, for a did-you-mean. */
function closest(name: string): string | undefined {
  const upper = name.toUpperCase().replace(/-/g, '_');
  return PERMISSION_NAMES.find((permission) => permission === upper) ?? PERMISSION_NAMES.find((permission) => permission.includes(upper) || upper.includes(permission));
}

/** Roles (named permission sets) and who holds them where. */
export const ROLE_ROUTES: Route[] = [
  {
    method: 'GET',
    path: '/api/v1/roles',
    summary: 'Every role, built-in (admin, developer, viewer) and custom, with its permissions',
    permission: 'ROLE_LIST',
    response: z.array(RoleSchema),
    handle: (context) => allRoles(context.platform.state),
  },
  {
    method: 'POST',
    path: '/api/v1/roles',
    summary: 'Add a custom role: a name and its permissions',
    permission: 'ROLE_EDIT',
    request: RoleAddRequestSchema,
    response: RoleSchema,
    handle: (context, _params, body) => {
      const { name, permissions } = body as z.infer<typeof RoleAddRequestSchema>;
      const { state } = context.platform;
      if (isBuiltInRole(name) || state.roles.get(name)) throw new PaasmakerError('ALREADY_EXISTS', `a role named "${name}" exists already`, { hint: 'paasmaker role list shows them' });
      const unknown = permissions.find((permission) => !isPermission(permission));
      if (unknown !== undefined) {
        const near = closest(unknown);
        throw new PaasmakerError('INVALID_REQUEST', `"${unknown}" is not a permission${near ? `; did you mean ${near}?` : ''}`, { hint: `the permissions: ${PERMISSION_NAMES.join(', ')}` });
      }
      const unique = [...new Set(permissions)];
      state.roles.add(name, unique);
      return { name, builtIn: false, permissions: unique };
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/roles/:role',
    summary: 'Remove a custom role; one that users hold only with ?confirm=true (they lose it)',
    permission: 'ROLE_EDIT',
    query: ConfirmQuerySchema,
    response: RemovedSchema,
    handle: (context, params, _body, query: z.infer<typeof ConfirmQuerySchema>) => {
      const { state } = context.platform;
      const name = params.role!;
      if (isBuiltInRole(name)) throw new PaasmakerError('IN_USE', `"${name}" is a built-in role: it cannot be removed`, { hint: 'paasmaker role unassign USER ROLE takes it from a user' });
      if (!state.roles.get(name)) throw new PaasmakerError('ROLE_NOT_FOUND', `no role named "${name}"`);
      const also = state.allocations.list({ role: name }).map((allocation) => `held by ${allocation.user}${allocation.workspace ? ` in ${allocation.workspace}` : ''}`);
      if (also.length > 0 && query.confirm !== 'true') {
        throw new PaasmakerError('CONFIRMATION_NEEDED', `role "${name}" is ${also.join(', ')}: removing it takes it from them`, { hint: `confirm with: paasmaker role remove ${name} --yes` });
      }
      state.roles.remove(name);
      return { removed: name, also };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/allocations',
    summary: 'Who holds which role, everywhere or in one workspace; ?user= one user\'s',
    permission: 'ROLE_LIST',
    query: AllocationsQuerySchema,
    response: z.array(AllocationSchema),
    handle: (context, _params, _body, query: z.infer<typeof AllocationsQuerySchema>) => context.platform.state.allocations.list({ user: query.user }),
  },
  {
    method: 'POST',
    path: '/api/v1/allocations',
    summary: 'Give a user a role, everywhere or (workspace) in one workspace',
    permission: 'ROLE_ASSIGN',
    request: AllocationRequestSchema,
    response: AllocationSchema,
    handle: (context, _params, body) => {
      const { user, role, workspace = null } = body as z.infer<typeof AllocationRequestSchema>;
      const { state } = context.platform;
      requireUser(state, user);
      requireRole(state, role);
      if (workspace !== null) requireWorkspace(state, workspace);
      state.allocations.assign(user, role, workspace);
      return state.allocations.list({ user }).find((allocation) => allocation.role === role && allocation.workspace === workspace)!;
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/allocations',
    summary: 'Take a role from a user (everywhere, or in the workspace given)',
    permission: 'ROLE_ASSIGN',
    request: AllocationRequestSchema,
    response: AllocationSchema,
    handle: (context, _params, body) => {
      const { user, role, workspace = null } = body as z.infer<typeof AllocationRequestSchema>;
      const { state } = context.platform;
      if (user === localAdminName() && role === 'admin' && workspace === null) {
        throw new PaasmakerError('IN_USE', `"${user}" is the local administrator: they keep the admin role`, { hint: 'the platform gives it back at every start' });
      }
      const held = state.allocations.list({ user }).find((allocation) => allocation.role === role && allocation.workspace === workspace);
      if (!held) throw new PaasmakerError('ROLE_NOT_FOUND', `user "${user}" does not hold the role "${role}"${workspace ? ` in workspace "${workspace}"` : ' everywhere'}`, { hint: `paasmaker user list shows what ${user} holds` });
      state.allocations.unassign(user, role, workspace);
      return held;
    },
  },
];
