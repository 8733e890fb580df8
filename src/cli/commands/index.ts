import type { CommandSpec } from '../command.js';
import completion from './completion.js';
import consoleCommand from './console.js';
import cronList from './cron-list.js';
import cronRun from './cron-run.js';
import daemonRun from './daemon-run.js';
import daemonStart from './daemon-start.js';
import daemonStatus from './daemon-status.js';
import daemonStop from './daemon-stop.js';
import dbShell from './db-shell.js';
import dbDump from './db-dump.js';
import dbQuery from './db-query.js';
import dbDescribe from './db-describe.js';
import dbRestore from './db-restore.js';
import dbSnapshot from './db-snapshot.js';
import dbSnapshots from './db-snapshots.js';
import dbSnapshotRestore from './db-snapshot-restore.js';
import dbSnapshotRm from './db-snapshot-rm.js';
import dnsSetup from './dns-setup.js';
import doctor from './doctor.js';
import down from './down.js';
import env from './env.js';
import init from './init.js';
import jobsAbort from './jobs-abort.js';
import jobsList from './jobs-list.js';
import jobsShow from './jobs-show.js';
import logs from './logs.js';
import mcp from './mcp.js';
import mail from './mail.js';
import mailShow from './mail-show.js';
import mailClear from './mail-clear.js';
import ps from './ps.js';
import requests from './requests.js';
import restart from './restart.js';
import run from './run.js';
import runtimes from './runtimes.js';
import plugins from './plugins.js';
import pluginsAdd from './plugins-add.js';
import runtimesInstall from './runtimes-install.js';
import runtimesRemove from './runtimes-remove.js';
import scale from './scale.js';
import servicesDestroy from './services-destroy.js';
import servicesList from './services-list.js';
import servicesPrune from './services-prune.js';
import stats from './stats.js';
import top from './top.js';
import trust from './trust.js';
import up from './up.js';
import userAdd from './user-add.js';
import userList from './user-list.js';
import userRemove from './user-remove.js';
import userPasswd from './user-passwd.js';
import roleList from './role-list.js';
import roleAdd from './role-add.js';
import roleRemove from './role-remove.js';
import roleAssign from './role-assign.js';
import roleUnassign from './role-unassign.js';
import workspaceList from './workspace-list.js';
import workspaceAdd from './workspace-add.js';
import workspaceRemove from './workspace-remove.js';
import workspaceMove from './workspace-move.js';
import tokenCreate from './token-create.js';
import tokenList from './token-list.js';
import tokenRevoke from './token-revoke.js';
import deploy from './deploy.js';
import versions from './versions.js';
import versionsPrune from './versions-prune.js';
import versionsStart from './versions-start.js';
import versionsStop from './versions-stop.js';
import switchCommand from './switch.js';
import rollback from './rollback.js';
import gitInit from './git-init.js';
import gitReceive from './git-receive.js';
import exportCompose from './export-compose.js';
import exportKubernetes from './export-kubernetes.js';

// Every command, in the order `paasmaker --help` lists them; a group comes
// before its subcommands.
export const commands: readonly CommandSpec<never>[] = [
  init,
  up,
  ps,
  stats,
  logs,
  requests,
  mail,
  mailShow,
  mailClear,
  down,
  env,
  run,
  scale,
  restart,
  deploy,
  versions,
  versionsPrune,
  versionsStart,
  versionsStop,
  switchCommand,
  rollback,
  { name: 'git', description: 'git repositories a push to deploys from' },
  gitInit,
  gitReceive,
  servicesList,
  servicesDestroy,
  servicesPrune,
  { name: 'db', description: 'database tools' },
  dbShell,
  dbQuery,
  dbDescribe,
  dbDump,
  dbRestore,
  dbSnapshot,
  dbSnapshotRestore,
  dbSnapshotRm,
  dbSnapshots,
  jobsList,
  jobsShow,
  jobsAbort,
  { name: 'cron', description: "the apps' scheduled jobs" },
  cronList,
  cronRun,
  top,
  consoleCommand,
  mcp,
  { name: 'export', description: 'the app for other platforms: docker compose, Kubernetes' },
  exportCompose,
  exportKubernetes,
  { name: 'daemon', description: 'the background platform: one router and API for every project' },
  daemonStart,
  daemonStop,
  daemonStatus,
  daemonRun,
  { name: 'user', description: 'the users who may use the TCP API and the console' },
  userAdd,
  userList,
  userRemove,
  userPasswd,
  { name: 'role', description: 'roles (named permission sets) and who holds them' },
  roleList,
  roleAdd,
  roleRemove,
  roleAssign,
  roleUnassign,
  { name: 'workspace', description: 'workspaces: the named containers of apps' },
  workspaceList,
  workspaceAdd,
  workspaceRemove,
  workspaceMove,
  { name: 'token', description: "users' API tokens for the TCP API" },
  tokenCreate,
  tokenList,
  tokenRevoke,
  doctor,
  trust,
  runtimes,
  runtimesInstall,
  runtimesRemove,
  { name: 'dns', description: 'name resolution for *.local.paasmaker' },
  dnsSetup,
  plugins,
  pluginsAdd,
  completion,
];
