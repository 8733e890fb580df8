import type { CommandSpec } from '../command.js';
import daemonRun from './daemon-run.js';
import daemonStart from './daemon-start.js';
import daemonStatus from './daemon-status.js';
import daemonStop from './daemon-stop.js';
import doctor from './doctor.js';
import runtimes from './runtimes.js';
import servicesDestroy from './services-destroy.js';
import servicesList from './services-list.js';
import completion from './completion.js';
import cronList from './cron-list.js';
import cronRun from './cron-run.js';
import dnsSetup from './dns-setup.js';
import down from './down.js';
import restart from './restart.js';
import scale from './scale.js';
import up from './up.js';

// Every command, in the order `paasmaker --help` lists them; a group comes
// before its subcommands.
export const commands: readonly CommandSpec<never>[] = [
  up,
  doctor,
  runtimes,
  servicesList,
  servicesDestroy,
  { name: 'daemon', description: 'the background platform: one router and API for every project' },
  daemonStart,
  daemonStop,
  daemonStatus,
  daemonRun,
  { name: 'dns', description: 'name resolution for *.local.paasmaker' },
  dnsSetup,
  down,
  scale,
  restart,
  { name: 'cron', description: "the apps' scheduled jobs" },
  cronList,
  cronRun,
  completion,
];
