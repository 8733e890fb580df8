export { Platform, type PlatformOptions, type ReapReport } from './platform.js';
export type { InstanceStateEvent, JobUpdateEvent, LogLineEvent, PlatformEvents } from './events.js';
export { parseProcessKey, processKey } from './events.js';
export { listProcesses, type ProcessRow } from './queries.js';
