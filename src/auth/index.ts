export { Access, type Caller } from './access.js';
export { cookieValue, resolveCaller, type ResolvedCaller } from './caller.js';
export { ensureLocalAdmin, localAdminName } from './local-admin.js';
export { decoyHash, hashPassword, verifyPassword } from './passwords.js';
export { isPermission, PERMISSION_NAMES, PERMISSIONS, type Permission } from './permissions.js';
export { allRoles, BUILT_IN_ROLES, isBuiltInRole, rolePermissions } from './roles.js';
export { clearedSessionCookie, sessionCookie, SESSION_COOKIE, SESSION_SECONDS, SignInCodes, SignInLimiter, Sessions, type Session } from './sessions.js';
export { newToken, tokenHash } from './tokens.js';
