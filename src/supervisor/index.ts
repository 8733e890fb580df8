export { Supervisor, type SupervisorOptions } from './supervisor.js';
export { startKeeper, type Keeper } from './keeper.js';
export { LogFile } from './log-file.js';
export { groupMembers, killGroup, processStartTime, reapLeftovers, signalGroup } from './proc.js';
export { ENDED, type JournalEntry, type LogLine, type ProcessInfo, type ProcessSpec, type ProcessState, type RestartPolicy, type SupervisorEvents } from './types.js';
export { CLOCK_TICKS, groupUsage, type GroupUsage } from './group-usage.js';
