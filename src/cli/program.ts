import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerCommands } from './command.js';
import { commands } from './commands/index.js';

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
