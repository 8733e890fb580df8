import type { ProcessInfo, Supervisor } from '../supervisor/index.js';
import { parseProcessKey } from './events.js';
import type { Job, Jobs } from './jobs.js';

/**
 * A process the supervisor stopped for not answering its health checks
 * becomes a job of its own — "restart web.0: not answering /healthz (3
 * checks)" — that lasts until the process runs again (or is stopped).
 */
export function recordLivenessRestarts(supervisor: Supervisor, jobs: Jobs, runs: (app: string) => boolean): void {
  supervisor.on('unresponsive', (info, reason) => {
    const key = parseProcessKey(info.id);
    if (!key || !runs(key.app)) return;
    const title = `restart ${key.instance}.${key.index}: ${reason}`;
    void jobs.run(key.app, title, (job) => untilRunningAgain(supervisor, info, job), { root: true }).catch(() => undefined);
  });
}

function untilRunningAgain(supervisor: Supervisor, stuck: ProcessInfo, job: Job): Promise<void> {
  job.log(`pid ${stuck.pid} stopped answering; its last lines:`);
  for (const line of supervisor.tail(stuck.id, 20)) job.log(`  ${line.line}`, line.stream === 'system' ? 'system' : line.stream);
  const began = Date.now();
  return new Promise((resolve, reject) => {
    const onState = (info: ProcessInfo) => {
      if (info.id !== stuck.id) return;
      if (info.state === 'running') {
        supervisor.off('state', onState);
        job.detail = `running again as pid ${info.pid} after ${((Date.now() - began) / 1000).toFixed(1)} s`;
        resolve();
      } else if (info.state === 'crashed') {
        supervisor.off('state', onState);
        reject(new Error(`crashed on restart${info.lastExit ? ` (${info.lastExit.reason})` : ''}`));
      } else if (info.state === 'stopped') {
        supervisor.off('state', onState);
        try {
          job.abort('stopped before it ran again');
        } catch {
          // state could not be written (a full disk): the job stays as it was, the platform goes on
        }
        resolve();
      }
    };
    supervisor.on('state', onState);
  });
}
