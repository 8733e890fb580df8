export { Supervisor, type SupervisorOptions } from './supervisor.js';
export { startKeeper, type Keeper } from './keeper.js';
export { LogFile } from './log-file.js';
export { groupMembers, isSameProcess, killGroup, processStartTime, reapLeftovers, signalGroup } from './proc.js';
export type { JournalEntry, LogLine, ProcessInfo, ProcessSpec, ProcessState, SupervisorEvents } from './types.js';
