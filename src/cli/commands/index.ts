import type { CommandSpec } from '../command.js';
import completion from './completion.js';
import cronList from './cron-list.js';
import cronRun from './cron-run.js';
import dnsSetup from './dns-setup.js';
import down from './down.js';
import restart from './restart.js';
import scale from './scale.js';

// Every command, in the order `paasmaker --help` lists them; a group comes
// before its subcommands.
export const commands: readonly CommandSpec<never>[] = [
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
