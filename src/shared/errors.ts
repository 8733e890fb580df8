/**
 * Two kinds of failure: a PaasmakerError is something the user can act on
 * (message + hint, exit 1, no stack); anything else is a bug (exit 70, stack).
 */
export type ErrorCode =
  | 'MANIFEST_NOT_FOUND'
  | 'MANIFEST_INVALID'
  | 'CONFIG_INVALID'
  | 'RUNTIME_UNKNOWN'
  | 'RUNTIME_MISSING'
  | 'RUNTIME_VERSION'
  | 'PREPARE_FAILED'
  | 'APP_RUNNING'
  | 'APP_NOT_FOUND'
  | 'INSTANCE_NOT_FOUND'
  | 'PORT_IN_USE'
  | 'SERVICE_UNKNOWN'
  | 'SERVICE_BINARY_MISSING'
  | 'SERVICE_FAILED'
  | 'SERVICE_NOT_FOUND'
  | 'CONFIRMATION_NEEDED'
  | 'STATE_DAMAGED'
  | 'STATE_UNWRITABLE'
  | 'DISK_FULL'
  | 'USAGE';

export class PaasmakerError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  /** Extra lines printed after the message, such as a code frame. */
  readonly detail?: string;

  constructor(code: ErrorCode, message: string, options: { hint?: string; detail?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PaasmakerError';
    this.code = code;
    this.hint = options.hint;
    this.detail = options.detail;
  }
}

export function isPaasmakerError(error: unknown): error is PaasmakerError {
  return error instanceof PaasmakerError;
}

export const EXIT = { ok: 0, user: 1, usage: 2, bug: 70 } as const;

/** An error as lines for a job or a status: message, detail, and the hint when asked for. */
export function errorText(error: unknown, options: { hint?: boolean } = {}): string {
  if (error instanceof PaasmakerError) return [error.message, error.detail, options.hint && error.hint && `hint: ${error.hint}`].filter(Boolean).join('\n');
  return error instanceof Error ? error.message : String(error);
}
