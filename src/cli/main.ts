import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { EXIT } from '../shared/errors.js';
import { registerCommands } from './command.js';
import { colorEnabled, painter, reportError } from './output.js';
import { paasmakerHome } from '../shared/paths.js';
import { keepHeapSmall } from './heap.js';

/**
 * `daemon run` (what `daemon start` spawns) registers only itself: the daemon
 * runs for days, and the whole command tree (every command file and its
 * commander objects) would stay in its memory for nothing.
 */
async function daemonProgram(setExit: (code: number) => void, argv: readonly string[]): Promise<Command> {
  const { default: daemonRun } = await import('./commands/daemon-run.js');
  const program = new Command('paasmaker').enablePositionalOptions();
  registerCommands(program, [{ name: 'daemon', description: 'the background platform' }, daemonRun], argv, setExit);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  if (argv[2] === 'up' || argv[2] === 'top') keepHeapSmall();
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
    const [{ complete }, { buildProgram }] = await Promise.all([import('./commands/completion.js'), import('./program.js')]);
    return complete(buildProgram(() => undefined, argv), argv.slice(3));
  }
  // What a platform reads a SQLite database with, in a process it can kill at the query's time limit.
  if (argv[2] === '__sqlite-read') return (await import('../services/plugins/sqlite-query.js')).serveSqliteRead();
  await loadConfiguredPlugins(argv);
  let exitCode: number = EXIT.ok;
  const setExit = (code: number): void => {
    exitCode = code;
  };
  const program = argv[2] === 'daemon' && argv[3] === 'run' ? await daemonProgram(setExit, argv) : (await import('./program.js')).buildProgram(setExit, argv);
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
