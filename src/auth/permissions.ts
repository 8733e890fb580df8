/**
 * Every permission, once, with what it allows (names after the original
 * Paasmaker's). A route declares one of these; a role is a set of them.
 */
export const PERMISSIONS = {
  USER_LIST: 'see the users',
  USER_EDIT: 'add, remove and change users (and anyone\'s API tokens)',
  ROLE_LIST: 'see the roles and who holds them',
  ROLE_EDIT: 'add and remove custom roles',
  ROLE_ASSIGN: 'give a user a role, or take it away',
  WORKSPACE_LIST: 'see every workspace, even those the caller holds no role in',
  WORKSPACE_VIEW: "see a workspace's apps: their state, processes, logs, jobs, crons and traffic",
  WORKSPACE_EDIT: 'add workspaces and move apps between them',
  WORKSPACE_DELETE: 'remove a workspace',
  JOB_ABORT: 'abort a running job',
  APPLICATION_CREATE: 'run a new app (paasmaker up) in a workspace',
  APPLICATION_DEPLOY: 'start, stop, restart and scale apps and their processes, and run their crons',
  APPLICATION_DELETE: 'destroy what an app owns: its provisioned services and their data',
  APPLICATION_ROUTING: "see and change an app's hostnames and routing",
  APPLICATION_VIEW_MANIFEST: "see an app's manifest and environment (masked)",
  SERVICE_VIEW: "see an app's services and the managed database servers",
  SERVICE_CREDENTIAL_VIEW: 'see credentials: service passwords, URLs with secrets, an app\'s unmasked environment',
  SERVICE_EXPORT: "export a service's data",
  SERVICE_IMPORT: "import data into a service",
  SYSTEM_ADMINISTRATION: 'stop the daemon and act on the platform itself',
  SYSTEM_OVERVIEW: "see the platform's status, doctor's checks and runtimes",
} as const;

export type Permission = keyof typeof PERMISSIONS;

export const PERMISSION_NAMES = Object.keys(PERMISSIONS) as Permission[];

export function isPermission(name: string): name is Permission {
  return Object.hasOwn(PERMISSIONS, name);
}
