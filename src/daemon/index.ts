export { ensureDaemon, stopDaemon } from './control.js';
export { DaemonProjects } from './projects.js';
export { runDaemon } from './run.js';
