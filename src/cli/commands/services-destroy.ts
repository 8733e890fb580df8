import { createInterface } from 'node:readline/promises';
import { callApi, type JobRun, type ServiceRow } from '../../api/index.js';
import { PaasmakerError } from '../../shared/errors.js';
import { runningPlatform } from '../running-platform.js';
import { defineCommand } from '../command.js';

export default defineCommand<{ yes?: boolean }>({
  name: 'services destroy',
  description: 'delete a provisioned service and all its data (asks first)',
  arguments: [{ name: '<app/service[@branch]>', description: 'what to delete, as paasmaker services lists it', completes: 'service' }],
  options: [{ flags: '--yes', description: 'do not ask' }],
  examples: ['paasmaker services destroy shop/db          asks for the name back', 'paasmaker services destroy shop/db@feature --yes'],
  run: ({ args, options }) => servicesDestroy(args[0] as string, options),
});

/** How long the answer waits for the job; a longer destroy is followed with paasmaker jobs show. */
const WAIT_SECONDS = 60;

/** The service's name typed back, or undefined when the user would not (or cannot) confirm. */
async function confirmation(target: string, row: ServiceRow, yes: boolean | undefined): Promise<string | undefined> {
  if (yes) return row.service!;
  if (!process.stdin.isTTY) throw new PaasmakerError('CONFIRMATION_NEEDED', `destroying ${target} (${row.plugin} ${row.resource}) deletes its data`, { hint: `add --yes to confirm: paasmaker services destroy ${target} --yes` });
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await prompt.question(`Delete ${target} (${row.plugin} ${row.resource}) and all its data? Type the service name (${row.service}) to confirm: `);
  prompt.close();
  return answer.trim() === row.service ? answer.trim() : undefined;
}

/**
 * `paasmaker services destroy APP/SERVICE[@BRANCH] --yes`: drops a service
 * and its data, never without asking. The running platform does it (a
 * managed server's database is dropped through that server, which only a
 * running platform holds); with none running it says how to start one.
 */
async function servicesDestroy(target: string, options: { yes?: boolean }): Promise<number> {
  const match = /^([^/@]+)\/([^/@]+)(?:@(.+))?$/.exec(target);
  if (!match) throw new PaasmakerError('USAGE', `"${target}" is not APP/SERVICE`, { hint: 'for example: paasmaker services destroy shop/db --yes (paasmaker services lists them)' });
  const [, app, service, branch] = match as unknown as [string, string, string, string | undefined];
  const socket = runningPlatform();
  if (!socket) {
    throw new PaasmakerError('PLATFORM_UNREACHABLE', `no platform runs: destroying ${target} needs one (it drops the data through the service's server)`, {
      hint: `start one with: paasmaker daemon start, then run: paasmaker services destroy ${target}${options.yes ? ' --yes' : ''}`,
    });
  }
  const rows = await callApi<ServiceRow[]>(socket, 'GET', `/api/v1/services?app=${encodeURIComponent(app)}`);
  const row = rows.find((candidate) => candidate.service === service && candidate.branch === (branch ?? null));
  if (!row) throw new PaasmakerError('SERVICE_NOT_FOUND', `no provisioned service ${target}`, { hint: 'paasmaker services lists what exists' });
  const confirm = await confirmation(target, row, options.yes);
  if (confirm === undefined) {
    process.stderr.write('Nothing was deleted.\n');
    return 1;
  }
  const query = new URLSearchParams({ wait: String(WAIT_SECONDS), ...(branch ? { branch } : {}) });
  const answer = await callApi<JobRun>(socket, 'DELETE', `/api/v1/services/${encodeURIComponent(app)}/${encodeURIComponent(service)}?${query}`, { confirm });
  if (answer.state === 'running') {
    process.stdout.write(`destroying ${target} takes longer than ${WAIT_SECONDS} s; follow it with: paasmaker jobs show ${answer.job} -f\n`);
    return 0;
  }
  if (answer.state === 'failed') {
    process.stderr.write(`could not destroy ${target}: ${answer.detail ?? 'failed'} — job ${answer.job}\n`);
    return 1;
  }
  process.stdout.write(`${answer.detail ?? `destroyed ${target}`}\n`);
  return 0;
}
