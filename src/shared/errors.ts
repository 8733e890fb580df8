/**
 * Two kinds of failure: a PaasmakerError is something the user can act on
 * (message + hint, no stack; exit 1, or 2 for a command line that cannot be
 * read, or 70 when a server reports its own bug); anything else is a bug of
 * this process (exit 70, stack).
 *
 * Every code, once: the HTTP status the API answers it with, the exit code
 * the CLI ends with when it reaches the user, and the hint given when the
 * error itself brings none. The API server and its client both read this.
 */
export const ERRORS = {
  MANIFEST_NOT_FOUND: { status: 422, exit: 1 },
  MANIFEST_INVALID: { status: 422, exit: 1 },
  CONFIG_INVALID: { status: 422, exit: 1 },
  /** A plugin of config.yml's `plugins:` that could not be loaded (not found, threw, a name already taken, not a plugin). */
  PLUGIN_FAILED: { status: 422, exit: 1 },
  /** Two plugins (or a plugin and a built-in) give the same name to a runtime or a service. */
  PLUGIN_CLASH: { status: 422, exit: 1 },
  /** `paasmaker plugins add` could not install the package. */
  PLUGIN_INSTALL_FAILED: { status: 422, exit: 1 },
  RUNTIME_UNKNOWN: { status: 422, exit: 1 },
  RUNTIME_MISSING: { status: 422, exit: 1 },
  RUNTIME_VERSION: { status: 422, exit: 1 },
  /** A runtime version Paasmaker could not download (offline, the registry unreachable, an integrity mismatch). */
  RUNTIME_DOWNLOAD: { status: 502, exit: 1 },
  /** A runtime version to remove that Paasmaker did not install. */
  RUNTIME_NOT_INSTALLED: { status: 404, exit: 1, hint: 'paasmaker runtimes lists what is installed, and by what' },
  PREPARE_FAILED: { status: 422, exit: 1 },
  /** A one-shot that others depend on (a release phase, a migration) did not complete. */
  DEPENDENCY_FAILED: { status: 424, exit: 1 },
  APP_RUNNING: { status: 409, exit: 1 },
  /** A deploy or a switch that did not make its version current: the one serving keeps serving. */
  DEPLOY_FAILED: { status: 422, exit: 1 },
  VERSION_NOT_FOUND: { status: 404, exit: 1, hint: 'paasmaker versions APP lists them' },
  /** A deploy's source cannot be read: a missing path, an unknown ref, an archive that is not one or holds paths outside itself. */
  SOURCE_INVALID: { status: 400, exit: 1 },
  /** A git work tree with uncommitted changes to tracked files, deployed without allowDirty. */
  SOURCE_DIRTY: { status: 409, exit: 1, hint: 'commit them, or deploy with --allow-dirty' },
  /** A repository URL git could not fetch from (or not in time). */
  SOURCE_UNREACHABLE: { status: 502, exit: 1 },
  /** git, tar or unzip, needed to read a source, is not installed where the platform runs. */
  SOURCE_TOOL_MISSING: { status: 422, exit: 1 },
  APP_NOT_FOUND: { status: 404, exit: 1 },
  INSTANCE_NOT_FOUND: { status: 404, exit: 1 },
  CRON_NOT_FOUND: { status: 404, exit: 1, hint: 'paasmaker cron list names them' },
  JOB_NOT_FOUND: { status: 404, exit: 1, hint: 'paasmaker jobs lists them' },
  MAIL_NOT_FOUND: { status: 404, exit: 1, hint: 'paasmaker mail APP lists the messages' },
  PORT_IN_USE: { status: 409, exit: 1 },
  SERVICE_UNKNOWN: { status: 422, exit: 1 },
  SERVICE_BINARY_MISSING: { status: 422, exit: 1 },
  SERVICE_FAILED: { status: 502, exit: 1 },
  SERVICE_NOT_FOUND: { status: 404, exit: 1 },
  CONFIRMATION_NEEDED: { status: 409, exit: 1 },
  /** A file given to restore that is not a whole dump of the service's kind (truncated, corrupt, another kind). */
  DUMP_INVALID: { status: 422, exit: 1 },
  /** A dump to download that is not (or no longer) kept. */
  DUMP_NOT_FOUND: { status: 404, exit: 1, hint: 'a dump is kept until it is downloaded, for six hours at most: make another (paasmaker db dump)' },
  SNAPSHOT_NOT_FOUND: { status: 404, exit: 1, hint: 'paasmaker db snapshots lists them' },
  /** A job was aborted (paasmaker jobs abort) before it could do its work: what waited on it does not go on. */
  JOB_ABORTED: { status: 409, exit: 1 },
  /** The app's data is being worked on by another job (a dump, a restore, a snapshot): one at a time. */
  APP_BUSY: { status: 409, exit: 1 },
  /** A query that would change data, sent where only reads are allowed (db query, the MCP server's query_database). */
  READ_ONLY: { status: 403, exit: 1, hint: 'only reads are allowed here: SELECT, SHOW, EXPLAIN, or a read command of Redis; change data with paasmaker db shell' },
  /** A query the database itself refused (a syntax error, a missing table) or that ran past its time limit. */
  QUERY_FAILED: { status: 400, exit: 1 },
  /** A trust store that could not be changed (paasmaker trust): the command that failed says why. */
  TRUST_FAILED: { status: 500, exit: 1 },
  STATE_DAMAGED: { status: 500, exit: 1 },
  STATE_UNWRITABLE: { status: 500, exit: 1 },
  DISK_FULL: { status: 507, exit: 1 },
  /** A command line the CLI cannot read: exit 2, like any tool's usage error. */
  USAGE: { status: 400, exit: 2 },
  /**
   * A request the API refuses before any handler runs. The CLI builds its
   * requests itself, so when one is refused the command line was readable:
   * a value it passed on is out of range, or client and server disagree.
   * The user acts on the message, as on any other refusal: exit 1.
   */
  INVALID_REQUEST: { status: 400, exit: 1 },
  /** A request body over what the endpoint takes (an archive upload over its limit). */
  BODY_TOO_LARGE: { status: 413, exit: 1 },
  /** A request body of a Content-Type the endpoint does not take. */
  UNSUPPORTED_MEDIA_TYPE: { status: 415, exit: 1 },
  NOT_FOUND: { status: 404, exit: 1, hint: 'GET /api/v1/openapi.json lists the API' },
  METHOD_NOT_ALLOWED: { status: 405, exit: 1, hint: 'GET /api/v1/openapi.json lists the API' },
  UNAUTHORIZED: { status: 401, exit: 1, hint: 'over TCP, send a user\'s API token (paasmaker token create --user NAME) as "Authorization: Bearer pm_…", or sign in (paasmaker console)' },
  FORBIDDEN: { status: 403, exit: 1 },
  /** A state-changing request signed in by the session cookie without the session's x-csrf-token. */
  CSRF: { status: 403, exit: 1, hint: "GET /api/v1/session answers the session's csrf value; send it as the x-csrf-token header" },
  USER_NOT_FOUND: { status: 404, exit: 1, hint: 'paasmaker user list names them' },
  ROLE_NOT_FOUND: { status: 404, exit: 1, hint: 'paasmaker role list names them' },
  WORKSPACE_NOT_FOUND: { status: 404, exit: 1, hint: 'paasmaker workspace list names them (paasmaker workspace add NAME makes one)' },
  TOKEN_NOT_FOUND: { status: 404, exit: 1, hint: 'paasmaker token list shows their ids' },
  /** A user, role or workspace of that name exists already. */
  ALREADY_EXISTS: { status: 409, exit: 1 },
  /** It cannot be removed or changed: built in, or still holding something. */
  IN_USE: { status: 409, exit: 1 },
  /** Too many failed sign-ins: the answer's Retry-After says when to try again. */
  RATE_LIMITED: { status: 429, exit: 1 },
  /** Nothing answers on the platform's socket: no daemon, no foreground up (or one killed, its socket left behind). */
  PLATFORM_UNREACHABLE: { status: 503, exit: 1, hint: 'start one with: paasmaker daemon start (or run paasmaker up in the project)' },
  /** An error code this CLI does not know, from a newer server. */
  API_ERROR: { status: 500, exit: 1 },
  /** A bug on the server's side: its stack is in that platform's log. */
  INTERNAL: { status: 500, exit: 70, hint: "this is a bug in Paasmaker: the stack is in its log (the daemon's is $PAASMAKER_HOME/logs/daemon.log)" },
} as const satisfies Record<string, { status: number; exit: 0 | 1 | 2 | 70; hint?: string }>;

export type ErrorCode = keyof typeof ERRORS;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERRORS, code);
}

/** The hint a code gives when its error brings none. */
export function defaultHint(code: ErrorCode): string | undefined {
  const entry = ERRORS[code];
  return 'hint' in entry ? entry.hint : undefined;
}

export class PaasmakerError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  /** Extra lines printed after the message, such as a code frame. */
  readonly detail?: string;

  constructor(code: ErrorCode, message: string, options: { hint?: string; detail?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PaasmakerError';
    this.code = code;
    this.hint = options.hint ?? defaultHint(code);
    this.detail = options.detail;
  }
}

export function isPaasmakerError(error: unknown): error is PaasmakerError {
  return error instanceof PaasmakerError;
}

export const EXIT = { ok: 0, user: 1, usage: 2, bug: 70 } as const;

/** The exit code of an error that reaches the user: its code's, or 70 for a bug of this process. */
export function exitCodeFor(error: unknown): number {
  return isPaasmakerError(error) ? ERRORS[error.code].exit : EXIT.bug;
}

/** An error as lines for a job or a status: message, detail, and the hint when asked for. */
export function errorText(error: unknown, options: { hint?: boolean } = {}): string {
  if (error instanceof PaasmakerError) return [error.message, error.detail, options.hint && error.hint && `hint: ${error.hint}`].filter(Boolean).join('\n');
  return error instanceof Error ? error.message : String(error);
}
