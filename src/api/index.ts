// The API's client side and its contracts: what every face imports. The
// server and its route table (which load the engine) are imported by the
// processes that serve the API, from their own files.
export { apiError, apiSocketFor, callApi, daemonFile, daemonSocket, followEvents, runningDaemon, unreachable, upSocket, type DaemonRecord } from './client.js';
export { degradedPlatforms } from './degraded.js';
export * from '../shared/views.js';
