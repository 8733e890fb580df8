import { ApiError, get, setCsrf } from './api.js';

/** What GET /api/v1/session answers: who is signed in and what they may do, globally and per workspace. */
export interface Session {
  user: string;
  owner: boolean;
  csrf: string;
  global: string[];
  workspaces: Record<string, string[]>;
}

/**
 * The session, or 'signed-out' (401: the sign-in form), or 'open' when
 * this API has no sessions at all (an older platform: 404): then the page
 * hides nothing, and the API still decides.
 */
export type SessionState = Session | 'signed-out' | 'open';

export async function loadSession(): Promise<SessionState> {
  try {
    const session = await get<Session>('/session');
    setCsrf(session.csrf);
    return session;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return 'signed-out';
    if (error instanceof ApiError && error.status === 404) return 'open';
    throw error;
  }
}

/**
 * The permission each action of the page needs (the API enforces the same
 * ones; the page only hides the buttons a user could not use).
 */
export const NEEDS = {
  deploy: 'APPLICATION_DEPLOY',
  abortJob: 'JOB_ABORT',
  credentials: 'SERVICE_CREDENTIAL_VIEW',
  deleteService: 'APPLICATION_DELETE',
  viewEnvironment: 'APPLICATION_VIEW_MANIFEST',
  viewServices: 'SERVICE_VIEW',
} as const;

let current: SessionState = 'open';
export function setSessionState(state: SessionState): void {
  current = state;
}

/** Whether the signed-in user holds a permission, globally or in the app's workspace. */
export function can(permission: string, workspace = 'default'): boolean {
  const session = current;
  if (session === 'open') return true;
  if (session === 'signed-out') return false;
  if (session.owner) return true;
  // As the API decides (Access.can): held everywhere, or in this workspace; no permission stands for another.
  return session.global.includes(permission) || (session.workspaces[workspace] ?? []).includes(permission);
}
