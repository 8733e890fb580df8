import type { State } from '../state/index.js';
import { PERMISSION_NAMES, type Permission } from './permissions.js';

/** What a developer does with apps, in the workspaces they hold the role in. */
const DEVELOPER: Permission[] = [
  'WORKSPACE_VIEW',
  'JOB_ABORT',
  'APPLICATION_CREATE',
  'APPLICATION_DEPLOY',
  'APPLICATION_DELETE',
  'APPLICATION_ROUTING',
  'APPLICATION_VIEW_MANIFEST',
  'SERVICE_VIEW',
  'SERVICE_CREDENTIAL_VIEW',
  'SERVICE_EXPORT',
  'SERVICE_IMPORT',
  'SYSTEM_OVERVIEW',
];

/** Read only, never a credential. */
const VIEWER: Permission[] = ['WORKSPACE_VIEW', 'APPLICATION_VIEW_MANIFEST', 'SERVICE_VIEW', 'SYSTEM_OVERVIEW'];

/** The roles every platform has: not editable, not removable. */
export const BUILT_IN_ROLES: Readonly<Record<string, readonly Permission[]>> = {
  admin: PERMISSION_NAMES,
  developer: DEVELOPER,
  viewer: VIEWER,
};

export function isBuiltInRole(name: string): boolean {
  return Object.hasOwn(BUILT_IN_ROLES, name);
}

/** A role's permissions (built-in or custom); undefined when no role has this name. */
export function rolePermissions(state: State, role: string): readonly Permission[] | undefined {
  if (isBuiltInRole(role)) return BUILT_IN_ROLES[role];
  return state.roles.get(role)?.permissions as Permission[] | undefined;
}

/** Every role, built-in first. */
export function allRoles(state: State): Array<{ name: string; builtIn: boolean; permissions: Permission[] }> {
  return [
    ...Object.entries(BUILT_IN_ROLES).map(([name, permissions]) => ({ name, builtIn: true, permissions: [...permissions] })),
    ...state.roles.list().map((role) => ({ name: role.name, builtIn: false, permissions: role.permissions as Permission[] })),
  ];
}
