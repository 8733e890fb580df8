export { ensureDaemon, stopDaemon } from './control.js';
export { runDaemon } from './run.js';
