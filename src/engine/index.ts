export { Platform, type PlatformOptions, type ReapReport } from './platform.js';
export type { InstanceStateEvent, JobUpdateEvent, LogLineEvent, PlatformEvents } from './events.js';
export { parseProcessKey, processKey } from './events.js';
export { listProcesses, listTraffic, type ProcessRow, type TrafficRow } from './queries.js';
export type { UnreadyProcess } from './unready.js';
export { appEnvironment, maskEnvironment } from './environment.js';
export { isSecret } from '../services/index.js';
export { projectEnvironment, type ProjectEnvironment } from './project-environment.js';
