import { z } from 'zod';
import { PaasmakerError } from '../shared/errors.js';
import { AppSchema } from '../shared/views.js';
import { RemovedSchema, WorkspaceSchema } from '../shared/auth-views.js';
import { ConfirmQuerySchema, WorkspaceAddRequestSchema, WorkspaceMoveRequestSchema } from './auth-requests.js';
import { appRecord, type Route } from './route.js';
import { requireWorkspace } from './user-routes.js';

/** Workspaces: the named containers of apps ("default" always exists). */
export const WORKSPACE_ROUTES: Route[] = [
  {
    method: 'GET',
    path: '/api/v1/workspaces',
    summary: 'The workspaces the caller may view (all of them with WORKSPACE_LIST), each with its apps',
    permission: 'WORKSPACE_VIEW',
    scope: 'somewhere',
    response: z.array(WorkspaceSchema),
    handle: (context) => {
      const { state } = context.platform;
      return state.workspaces
        .list()
        .filter((workspace) => context.access.can('WORKSPACE_LIST') || context.access.can('WORKSPACE_VIEW', workspace.name))
        .map((workspace) => ({ ...workspace, apps: state.workspaces.apps(workspace.name) }));
    },
  },
  {
    method: 'POST',
    path: '/api/v1/workspaces',
    summary: 'Add a workspace',
    permission: 'WORKSPACE_EDIT',
    request: WorkspaceAddRequestSchema,
    response: WorkspaceSchema,
    handle: (context, _params, body) => {
      const { name } = body as z.infer<typeof WorkspaceAddRequestSchema>;
      const { state } = context.platform;
      if (!state.workspaces.ensure(name)) throw new PaasmakerError('ALREADY_EXISTS', `a workspace named "${name}" exists already`, { hint: 'paasmaker workspace list shows them' });
      return { ...state.workspaces.get(name)!, apps: [] };
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/workspaces/:workspace',
    summary: 'Remove a workspace: refused while it holds apps; one with role allocations only with ?confirm=true (they go with it)',
    permission: 'WORKSPACE_DELETE',
    query: ConfirmQuerySchema,
    response: RemovedSchema,
    handle: (context, params, _body, query: z.infer<typeof ConfirmQuerySchema>) => {
      const { state } = context.platform;
      const name = params.workspace!;
      if (name === 'default') throw new PaasmakerError('IN_USE', 'the workspace "default" always exists', { hint: 'new apps go there unless their manifest names another' });
      requireWorkspace(state, name);
      const apps = state.workspaces.apps(name);
      if (apps.length > 0) throw new PaasmakerError('IN_USE', `workspace "${name}" holds ${apps.join(', ')}`, { hint: `move them first: paasmaker workspace move ${apps[0]} default` });
      const also = state.allocations.list({ workspace: name }).map((allocation) => `role ${allocation.role} of ${allocation.user}`);
      if (also.length > 0 && query.confirm !== 'true') {
        throw new PaasmakerError('CONFIRMATION_NEEDED', `in workspace "${name}", users hold ${also.join(', ')}: removing it takes those away`, { hint: `confirm with: paasmaker workspace remove ${name} --yes` });
      }
      state.workspaces.remove(name);
      return { removed: name, also };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/apps/:app/workspace',
    summary: "Move an app to another workspace (WORKSPACE_EDIT in both); a manifest's application.workspace moves it back at its next up",
    permission: 'WORKSPACE_EDIT',
    scope: 'app',
    request: WorkspaceMoveRequestSchema,
    response: AppSchema,
    handle: (context, params, body) => {
      const { workspace } = body as z.infer<typeof WorkspaceMoveRequestSchema>;
      const { state } = context.platform;
      appRecord(context, params.app!);
      requireWorkspace(state, workspace);
      if (!context.access.can('WORKSPACE_EDIT', workspace)) throw new PaasmakerError('FORBIDDEN', `moving into workspace "${workspace}" needs the permission WORKSPACE_EDIT there`, { hint: 'a role holding it there gives it (paasmaker role list)' });
      state.workspaces.moveApp(params.app!, workspace);
      return appRecord(context, params.app!);
    },
  },
];
