import type { ErrorCode } from '../../shared/errors.js';

/** An answer the API refused: its status, code, message and hint, as the API says them. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** The session's CSRF token: every state-changing request carries it back in a header. */
let csrf: string | undefined;
export function setCsrf(token: string | undefined): void {
  csrf = token;
}

/** Called when the API says the session is gone (401): the page shows the sign-in form. */
let onSignedOut: () => void = () => {};
export function whenSignedOut(listener: () => void): void {
  onSignedOut = listener;
}

/** A call of /api/v1 with the session's cookie (same origin) and, for a change, its CSRF token. */
export async function api<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  const response = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  const text = await response.text();
  let value: unknown;
  try {
    value = text ? JSON.parse(text) : undefined;
  } catch {
    throw new ApiError(response.status, 'INTERNAL', `the API answered ${response.status} with something that is not JSON`);
  }
  if (!response.ok) {
    const error = (value ?? {}) as { error?: string; code?: string; hint?: string };
    if (response.status === 401 && !path.startsWith('/session')) onSignedOut();
    throw new ApiError(response.status, error.code ?? String(response.status), error.error ?? `HTTP ${response.status}`, error.hint);
  }
  return value as T;
}

export const get = <T>(path: string) => api<T>('GET', path);
export const post = <T>(path: string, body: unknown = {}) => api<T>('POST', path, body);
export const del = <T>(path: string, body?: unknown) => api<T>('DELETE', path, body);

/** A path segment, encoded. */
export const seg = (value: string | number) => encodeURIComponent(String(value));
