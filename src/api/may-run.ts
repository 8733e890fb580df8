import { PaasmakerError } from '../shared/errors.js';
import type { ApiContext } from './route.js';

/**
 * Running a folder as an app: APPLICATION_CREATE in the workspace it lands in
 * and, for an app that exists, in the one it is in (a folder naming another
 * team's app must not take it over, nor its services' credentials). A
 * manifest that moves the app, or names a workspace not made yet, needs
 * WORKSPACE_EDIT there too, as paasmaker workspace move and add do.
 */
export function requireMayRun(context: ApiContext, app: string, named: string | undefined): void {
  const { workspaces } = context.platform.state;
  const current = workspaces.appWorkspace(app);
  const target = named ?? current ?? 'default';
  const refuse = (permission: string, workspace: string) => {
    throw new PaasmakerError('FORBIDDEN', `the caller lacks the permission ${permission} in workspace "${workspace}"`, { hint: 'a role holding it there gives it (paasmaker role assign USER developer --workspace WS)' });
  };
  for (const workspace of new Set([target, ...(current ? [current] : [])])) if (!context.access.can('APPLICATION_CREATE', workspace)) refuse('APPLICATION_CREATE', workspace);
  if ((current !== undefined && current !== target) || !workspaces.get(target)) {
    for (const workspace of new Set([target, ...(current ? [current] : [])])) if (!context.access.can('WORKSPACE_EDIT', workspace)) refuse('WORKSPACE_EDIT', workspace);
  }
}
