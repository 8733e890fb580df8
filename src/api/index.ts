// The API's client side and its contracts: what every face imports. The
// server and its route table (which load the engine) are imported by the
// processes that serve the API, from their own files. The row types come
// without their zod schemas, which stay in src/shared/views.ts: loading zod
// would double the time `paasmaker ps` takes.
export { apiError, apiSocketFor, callApi, daemonFile, daemonSocket, downloadFile, followEvents, postFile, runningDaemon, unreachable, upSocket, type DaemonRecord } from './client.js';
export { degradedPlatforms } from './degraded.js';
export { pidAlive, platformSockets, runningPlatforms, type RunningPlatform } from './platforms.js';
export type * from '../shared/views.js';
export type * from '../shared/auth-views.js';
