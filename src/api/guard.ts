import { timingSafeEqual } from 'node:crypto';
import type { Permission } from '../auth/index.js';
import type { State } from '../state/index.js';
import type { ApiContext, Route } from './route.js';

/** Why a request is refused before its handler: the error code and message. */
export interface Refusal {
  code: 'FORBIDDEN' | 'CSRF';
  message: string;
  hint: string;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * A request authenticated by the session cookie that changes something must
 * carry the session's CSRF value in x-csrf-token (GET /api/v1/session gives
 * it): a page of another site can make the browser send the cookie, not read
 * the value. Token and socket callers send no cookie, and need none.
 */
export function csrfRefusal(method: string, given: string | string[] | undefined, context: Pick<ApiContext, 'session'>): Refusal | undefined {
  if (!context.session || !STATE_CHANGING.has(method)) return undefined;
  const expected = Buffer.from(context.session.session.csrf);
  const actual = Buffer.from(typeof given === 'string' ? given : '');
  if (actual.length === expected.length && timingSafeEqual(actual, expected)) return undefined;
  return {
    code: 'CSRF',
    message: given === undefined ? 'the x-csrf-token header is missing: a request signed in by the session cookie that changes something must carry it' : 'the x-csrf-token header does not match this session',
    hint: 'GET /api/v1/session answers the session\'s csrf value; send it as the x-csrf-token header',
  };
}

/** The workspace a route's permission is checked in, from its parameters: undefined when the app or job is unknown (the handler answers 404). */
function routeWorkspace(route: Route, params: Record<string, string>, state: State): string | undefined {
  if (route.scope === 'app') return state.workspaces.appWorkspace(params.app ?? '');
  if (route.scope === 'job') {
    const job = state.jobs.get(params.id ?? '');
    return job ? (state.workspaces.appWorkspace(job.app) ?? 'default') : undefined;
  }
  return undefined;
}

/** Who the caller is, in a refusal. */
function who(context: ApiContext): string {
  return context.caller.kind === 'owner' ? 'the owner' : `user "${context.caller.user}"`;
}

/** The refusal when the caller lacks the route's permission (403), before its handler runs. */
export function permissionRefusal(route: Route, params: Record<string, string>, context: ApiContext): Refusal | undefined {
  const permission = route.permission;
  if (permission === 'anyone' || permission === 'signed-in') return undefined;
  const { access } = context;
  const scope = route.scope ?? 'global';
  let allowed: boolean;
  let where = '';
  if (scope === 'global') allowed = access.can(permission);
  else if (scope === 'somewhere' || scope === 'listed') allowed = access.canSomewhere(permission);
  else {
    const workspace = routeWorkspace(route, params, context.platform.state);
    allowed = workspace === undefined ? access.canSomewhere(permission) : access.can(permission, workspace);
    if (workspace !== undefined) where = ` in workspace "${workspace}"`;
  }
  if (allowed) return undefined;
  return forbidden(context, permission, where);
}

export function forbidden(context: ApiContext, permission: Permission, where = ''): Refusal {
  const user = context.caller.kind === 'user' ? context.caller.user : 'USER';
  return {
    code: 'FORBIDDEN',
    message: `${who(context)} lacks the permission ${permission}${where}`,
    hint: `a role holding it gives it: paasmaker role assign ${user} ROLE${where ? ` --workspace ${where.replace(/^ in workspace "|"$/g, '')}` : ''} (paasmaker role list shows what each holds)`,
  };
}

/**
 * A listing as the caller may see it: the items of apps in workspaces where
 * they view apps and hold the route's permission (SERVICE_VIEW for services,
 * …); an item of no app only with the permission everywhere.
 */
export function filterListed(route: Route, context: ApiContext, answer: unknown): unknown {
  if (route.scope !== 'listed' || context.caller.kind === 'owner' || !Array.isArray(answer)) return answer;
  const appOf = route.listedApp ?? ((item: { app?: string | null }) => item.app);
  const permission = route.permission;
  if (permission === 'anyone' || permission === 'signed-in') return answer.filter((item) => !appOf(item) || context.mayView(appOf(item)!));
  const everywhere = context.access.can(permission);
  const workspaces = everywhere ? undefined : context.platform.state.workspaces.appWorkspaces();
  return answer.filter((item) => {
    const app = appOf(item);
    if (!app) return everywhere;
    return context.mayView(app) && (everywhere || context.access.can(permission, workspaces!.get(app) ?? 'default'));
  });
}

/**
 * Whether the caller may see an app (WORKSPACE_VIEW in its workspace; or
 * another permission there, SERVICE_VIEW for its caught mail). The apps'
 * workspaces are read at most once a second: an event stream asks for every
 * event.
 */
export function viewer(context: Pick<ApiContext, 'access' | 'caller' | 'platform'>, permission: Permission = 'WORKSPACE_VIEW'): (app: string) => boolean {
  if (context.caller.kind === 'owner' || context.access.can(permission)) return () => true;
  let workspaces = new Map<string, string>();
  let readAt = 0;
  return (app) => {
    if (Date.now() - readAt > 1000) {
      workspaces = context.platform.state.workspaces.appWorkspaces();
      readAt = Date.now();
    }
    // '' is the platform's own (a managed server's lines): only for those who view everything.
    return app !== '' && context.access.can(permission, workspaces.get(app) ?? 'default');
  };
}
