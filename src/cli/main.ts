import { existsSync, readFileSync, statSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { EXIT } from '../shared/errors.js';
import { registerCommands } from './command.js';
import { commands } from './commands/index.js';
import { reportError } from './output.js';

// Command modules are imported when their command runs, so `--version` and
// `--help` load nothing but commander.
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** The program; `argv` is what main was given (run reads the words after `--` from it). */
export function buildProgram(setExit: (code: number) => void, argv: readonly string[] = []): Command {
  const program = new Command('paasmaker')
    .description("A developer PaaS in one package: from a project's manifest, provision its databases, run and supervise its processes, and route http://<app>.localhost to them.")
    .version(packageVersion(), '-v, --version', 'print the version')
    .showHelpAfterError('(run paasmaker --help for usage)')
    .enablePositionalOptions()
    .addHelpText(
      'after',
      `
Examples:
  $ paasmaker up                   run the project in this folder (q or Ctrl-C stops it)
  $ paasmaker up -d ../api         run another project in the background daemon
  $ paasmaker env --json           the app's environment, database credentials included
  $ paasmaker run -- psql '$DATABASE_URL'
  $ paasmaker ps                   list every process and its state
  $ paasmaker ps --json            the same, for scripts
  $ paasmaker logs web -f          follow the web instance's output
  $ paasmaker down                 stop the project in this folder

Environment:
  PAASMAKER_HOME        where state, logs and data live (default ~/.local/state/paasmaker)
  PAASMAKER_PROXY_PORT  the router's port (default 7654)
  PAASMAKER_DNS_PORT    the *.local.paasmaker DNS responder's port (default 7653)
  PAASMAKER_MAX_CONNECTIONS
                        the router's cap on open client connections (default: from the descriptor limit)
  NO_COLOR              turn colours off`,
    );

  program
    .command('ps')
    .description('list processes: app, instance, index, state, pid, port, restarts, uptime')
    .argument('[app]', 'only this app')
    .option('--json', 'print a JSON array of flat objects')
    .action(async (app: string | undefined, options: { json?: boolean }) => {
      const { ps } = await import('./commands/ps.js');
      setExit(await ps(app, options));
    });

  program
    .command('stats')
    .description('router traffic per app instance: requests, status classes, bytes, latency')
    .argument('[app]', 'only this app')
    .option('--json', 'print a JSON array of flat objects')
    .option('-w, --window <seconds>', 'how far back to count', '60')
    .action(async (app: string | undefined, options: { json?: boolean; window: string }) => {
      const { stats } = await import('./commands/stats.js');
      setExit(await stats(app, options));
    });

  program
    .command('logs')
    .description("print an app's output: all instances, or one")
    .argument('[target]', 'INSTANCE, INSTANCE.INDEX, APP, APP/INSTANCE or APP/INSTANCE.INDEX')
    .option('-f, --follow', 'keep printing new lines')
    .option('-n, --lines <n>', 'how many recent lines to print', '100')
    .option('-C, --dir <dir>', 'the project folder that names the app', '.')
    .addHelpText('after', '\nExamples:\n  $ paasmaker logs            every instance of the project here\n  $ paasmaker logs web.0 -f   follow one process\n  $ paasmaker logs shop/worker -n 20')
    .action(async (target: string | undefined, options: { follow?: boolean; lines: string; dir: string }) => {
      const { logs } = await import('./commands/logs.js');
      setExit(await logs(target, options));
    });

  program
    .command('env')
    .description("provision the app's services and print its environment (credentials included)")
    .argument('[dir]', 'project folder', '.')
    .option('--json', 'print a JSON object, secrets included (for scripts)')
    .option('--show-secrets', 'print passwords instead of ********')
    .action(async (dir: string, options: { json?: boolean; showSecrets?: boolean }) => {
      const { env } = await import('./commands/env.js');
      setExit(await env(dir, options));
    });

  program
    .command('run')
    .description("run a command with the app's environment: migrations, seeds, a REPL")
    .argument('[dir]', 'project folder (before --)', '.')
    .argument('[command...]', 'the command, after --')
    .option('-i, --instance <name>', 'take the environment and runtime of this instance type (default: web, else the first)')
    .usage('[DIR] [--instance NAME] -- COMMAND [ARGS...]')
    .passThroughOptions()
    .action(async (dir: string, command: string[], options: { instance?: string }) => {
      const { run } = await import('./commands/run.js');
      // Commander cannot tell DIR from the command's first word: `--` and the folder decide.
      // paasmaker run -- psql …  |  paasmaker run DIR -- psql …  |  paasmaker run DIR psql …  |  paasmaker run psql …
      const isFolder = (path: string | undefined) => path !== undefined && existsSync(path) && statSync(path).isDirectory();
      const dashes = argv.indexOf('--');
      let folder: string;
      let tail: string[];
      if (dashes !== -1) {
        tail = argv.slice(dashes + 1);
        folder = argv.slice(2, dashes).includes(dir) ? dir : '.'; // after node and the script
      } else {
        const words = [dir, ...command];
        folder = isFolder(words[0]) ? words[0]! : '.';
        tail = isFolder(words[0]) ? words.slice(1) : words;
      }
      setExit(await run(folder, tail, options));
    });

  const jobs = program
    .command('jobs')
    .description('every action as a job tree: up, services, prepare, start, reload, cron, destroy')
    .option('--json', 'print JSON')
    .option('--app <app>', 'only this app')
    .action(async (options: { json?: boolean; app?: string }) => {
      const { jobsList } = await import('./commands/jobs.js');
      setExit(await jobsList(options));
    });
  jobs
    .command('show')
    .description("a job's tree with states, and each step's log")
    .argument('<id>', 'the job id (or the start of it)')
    .option('-f, --follow', 'follow until it ends')
    .action(async (id: string, options: { follow?: boolean }) => {
      const { jobsShow } = await import('./commands/jobs.js');
      setExit(await jobsShow(id, options));
    });
  jobs
    .command('abort')
    .description('stop a running job (and its running steps)')
    .argument('<id>', 'the job id (or the start of it)')
    .action(async (id: string) => {
      const { jobsAbort } = await import('./commands/jobs.js');
      setExit(await jobsAbort(id));
    });

  program
    .command('top')
    .description("every project the daemon runs, live, in the terminal UI")
    .action(async () => {
      const { top } = await import('./commands/top.js');
      setExit(await top());
    });

  const db = program.command('db').description('database tools');
  db.command('shell')
    .description("open psql, mariadb, redis-cli or sqlite3 on one of the app's services")
    .argument('[service]', 'service name (default: the first)')
    .option('-C, --dir <dir>', 'project folder', '.')
    .action(async (service: string | undefined, options: { dir: string }) => {
      const { dbShell } = await import('./commands/db-shell.js');
      setExit(await dbShell(service, options));
    });

  registerCommands(program, commands, argv, setExit);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  // `paasmaker ps | head`: a reader that stops reading is not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(EXIT.ok);
      // Output redirected to a full disk: lines are lost, but the platform goes on.
      if (error.code === 'ENOSPC' || error.code === 'EDQUOT' || error.code === 'ERR_STREAM_DESTROYED') return;
      throw error;
    });
  }
  // What the completion scripts call: candidates for the last word, one a line.
  if (argv[2] === '__complete') {
    const { complete } = await import('./commands/completion.js');
    return complete(buildProgram(() => undefined, argv), argv.slice(3));
  }
  let exitCode: number = EXIT.ok;
  const program = buildProgram((code) => {
    exitCode = code;
  }, argv);
  program.exitOverride();
  const override = (command: Command): void => {
    command.exitOverride();
    command.commands.forEach(override);
  };
  override(program);
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') {
        return EXIT.ok;
      }
      return EXIT.usage;
    }
    return reportError(error);
  }
}
