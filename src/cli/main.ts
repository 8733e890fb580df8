import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { EXIT } from '../shared/errors.js';
import { registerCommands } from './command.js';
import { commands } from './commands/index.js';
import { colorEnabled, painter, reportError } from './output.js';
import { paasmakerHome } from '../shared/paths.js';

// Every command declares itself in a file of its own (commands/index.ts
// lists them); a command file loads what is heavy only when it runs, so
// `--version` and `--help` load little more than commander.
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** The program; `argv` is what main was given (run reads the words after `--` from it). */
export function buildProgram(setExit: (code: number) => void, argv: readonly string[] = []): Command {
  const program = new Command('paasmaker')
    .description("A developer PaaS in one package: from a project's manifest, provision its databases, run and supervise its processes, and route <app>.localhost to them (http and https).")
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
  // What a platform reads a SQLite database with, in a process it can kill at the query's time limit.
  if (argv[2] === '__sqlite-read') return (await import('../services/plugins/sqlite-query.js')).serveSqliteRead();
  await loadConfiguredPlugins(argv);
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

const STATE_ONLY = new Set(['ps', 'top', 'jobs', 'token', 'user', 'role', 'workspace', 'trust', 'dns', 'console', 'completion', 'mcp']);

/**
 * The plugins config.yml lists, loaded before any command reads a manifest or
 * config.yml (they may name a plugin's runtime or service). One that failed is
 * a warning here, positioned in config.yml; the command runs without it.
 */
async function loadConfiguredPlugins(argv: string[]): Promise<void> {
  // Commands that only ask a running platform or the state read neither manifests nor config.yml.
  if (argv[2] !== undefined && STATE_ONLY.has(argv[2])) return;
  const home = paasmakerHome();
  let text: string;
  try {
    text = readFileSync(join(home, 'config.yml'), 'utf8');
  } catch {
    return;
  }
  if (!/^plugins\s*:/m.test(text)) return;
  const { loadPlugins } = await import('../plugins/load.js');
  const records = await loadPlugins(home);
  // `paasmaker plugins` shows failures in its own list; --json output stays clean of prose.
  if (argv[2] === 'plugins' || argv.includes('--json') || argv.includes('-v') || argv.includes('--version')) return;
  const paint = painter(colorEnabled(process.stderr));
  for (const record of records.filter((candidate) => candidate.state === 'failed')) {
    process.stderr.write(`${paint('yellow', 'warning:')} ${record.error}\n`);
    if (record.hint) process.stderr.write(`${paint('cyan', 'hint:')} ${record.hint}\n`);
  }
}
