import { setTimeout as delay } from 'node:timers/promises';
import type { Command, Option } from 'commander';
import type { AppRow, ProcessRow } from '../../api/index.js';
import { PaasmakerError } from '../../shared/errors.js';
import { paasmakerHome } from '../../shared/paths.js';
import { completesOf, defineCommand, type Completes } from '../command.js';

// `paasmaker completion bash|zsh|fish` prints a script; the script calls back
// `paasmaker __complete WORD… CURRENT`, which prints one candidate a line
// (`candidate<TAB>description` where the shell can show one). A last line
// `:dirs` or `:files` asks the shell to add matching folders or files too.
// Commands and options come from the program tree; app, instance and job
// names from the running platforms' API, within a short deadline, so a
// platform that is not running (or is slow) only costs its names.

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

/** How long TAB waits for a platform's names: 120 ms, or $PAASMAKER_COMPLETION_WAIT_MS on a slow machine. */
const ASK_MS = Number(process.env.PAASMAKER_COMPLETION_WAIT_MS) > 0 ? Number(process.env.PAASMAKER_COMPLETION_WAIT_MS) : 120;

type Kind = Completes;

export default defineCommand({
  name: 'completion',
  description: 'print a shell completion script: commands, options, and the running apps, instances and jobs',
  arguments: [{ name: '<shell>', description: 'bash, zsh or fish', completes: 'shell' }],
  examples: ['source <(paasmaker completion bash)    in ~/.bashrc', 'source <(paasmaker completion zsh)     in ~/.zshrc', 'paasmaker completion fish > ~/.config/fish/completions/paasmaker.fish'],
  run: ({ args }) => completion(args[0] as string),
});


interface Candidate {
  value: string;
  description?: string;
}

/** `paasmaker completion SHELL`. */
function completion(shell: string): number {
  if (!(SHELLS as readonly string[]).includes(shell)) {
    throw new PaasmakerError('USAGE', `no completion script for "${shell}"`, { hint: `one of: ${SHELLS.join(', ')} — for example: source <(paasmaker completion bash)` });
  }
  process.stdout.write(SCRIPTS[shell as Shell]);
  return 0;
}

/** `paasmaker __complete WORD… CURRENT`: prints the candidates for CURRENT; never fails, never writes to stderr. */
export async function complete(program: Command, words: string[]): Promise<number> {
  try {
    const lines = await candidates(program, words.length === 0 ? [''] : words);
    process.stdout.write(lines.length > 0 ? `${lines.join('\n')}\n` : '');
  } catch {
    // A completion that fails offers nothing.
  }
  return 0;
}

/** The lines `__complete` prints for these words (the last one is being typed). */
export async function candidates(program: Command, words: string[]): Promise<string[]> {
  const current = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  let command = program;
  let positionals = 0;
  let pendingValue: Option | undefined;
  let afterDashes = false;
  let helpFor: Command | undefined;
  for (const word of before) {
    if (pendingValue) {
      pendingValue = undefined;
    } else if (afterDashes) {
      positionals++;
    } else if (word === '--') {
      afterDashes = true;
    } else if (word.startsWith('-') && word.length > 1) {
      const option = findOption(command, word.split('=')[0]!);
      if (option && (option.required || option.optional) && !word.includes('=') && !isShortWithValue(option, word)) pendingValue = option;
    } else if (positionals === 0 && !helpFor && subcommand(command, word)) {
      command = subcommand(command, word)!;
    } else if (positionals === 0 && !helpFor && word === 'help' && command.commands.length > 0) {
      helpFor = command;
    } else {
      positionals++;
    }
  }

  if (afterDashes) return [':files'];
  if (pendingValue) {
    const kind = completesOf(pendingValue);
    return kind ? render(await named(kind), current) : [];
  }
  if (current.startsWith('-')) return render(options(command, before, current), current);

  // `help COMMAND`, at any level.
  if (helpFor) return positionals === 0 ? render(subcommands(helpFor).filter((sub) => sub.value !== 'help'), current) : [];
  const found: Candidate[] = positionals === 0 ? subcommands(command) : [];
  // The first positional names something (every one, when it is variadic).
  const first = command.registeredArguments[0];
  const kind = first ? completesOf(first) : undefined;
  if (kind && first && (positionals === 0 || first.variadic)) found.push(...(await named(kind)));
  return render(found, current);
}

function render(found: Candidate[], current: string): string[] {
  const seen = new Set<string>();
  const lines: string[] = [];
  const directives: string[] = [];
  for (const candidate of found) {
    if (candidate.value.startsWith(':')) {
      directives.push(candidate.value);
      continue;
    }
    if (!candidate.value.startsWith(current) || seen.has(candidate.value)) continue;
    seen.add(candidate.value);
    lines.push(candidate.description ? `${candidate.value}\t${oneLine(candidate.description)}` : candidate.value);
  }
  return [...lines, ...directives];
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

function subcommand(command: Command, word: string): Command | undefined {
  return command.commands.find((sub) => sub.name() === word || sub.aliases().includes(word));
}

function subcommands(command: Command): Candidate[] {
  return command
    .createHelp()
    .visibleCommands(command)
    .filter((sub) => !sub.name().startsWith('_'))
    .map((sub) => ({ value: sub.name(), description: sub.description() }));
}

function findOption(command: Command, flag: string): Option | undefined {
  return command.options.find((option) => option.long === flag || option.short === flag || (option.short !== undefined && flag.startsWith(option.short) && flag.length > 2 && !flag.startsWith('--')));
}

/** `-n20`: a short option with its value attached. */
function isShortWithValue(option: Option, word: string): boolean {
  return option.short !== undefined && !word.startsWith('--') && word.length > option.short.length;
}

/** The options of a command, long forms (a short one typed whole stays short), without those already given. */
function options(command: Command, before: string[], current: string): Candidate[] {
  const given = new Set(before.map((word) => word.split('=')[0]));
  const visible = command.createHelp().visibleOptions(command);
  return visible
    .filter((option) => !(option.long && given.has(option.long)) && !(option.short && given.has(option.short)))
    .map((option) => ({ value: option.short === current ? current : (option.long ?? option.short!), description: option.description }));
}

/** Names of what a running platform runs, or words the program knows. */
async function named(kind: Kind): Promise<Candidate[]> {
  switch (kind) {
    case 'shell':
      return SHELLS.map((shell) => ({ value: shell }));
    case 'dir':
      return [{ value: ':dirs' }];
    case 'file':
      return [{ value: ':files' }];
    case 'app-or-dir':
      return [...(await apps(true)), { value: ':dirs' }];
    case 'app':
      return apps(false);
    case 'app-or-instance': {
      const [running, types] = await Promise.all([apps(true), instances()]);
      return [...running, ...types.map((row) => ({ value: `${row.app}/${row.instance}`, description: `${row.count} running` }))];
    }
    case 'logs-target': {
      const [known, rows] = await Promise.all([apps(false), processes()]);
      const types = new Set(rows.map((row) => `${row.app}/${row.instance}`));
      return [...known, ...[...types].map((value) => ({ value })), ...rows.map((row) => ({ value: `${row.app}/${row.instance}.${row.index}`, description: row.state }))];
    }
    case 'scale':
      return (await instances()).map((row) => ({ value: `${row.app}/${row.instance}=${row.count}`, description: `now ${row.count}` }));
    case 'job':
    case 'running-job': {
      const jobs = await ask<Array<{ id: string; app: string; title: string; state: string }>>('/api/v1/jobs');
      const open = kind === 'job' ? jobs : jobs.filter((job) => ['new', 'waiting', 'running'].includes(job.state));
      return open.map((job) => ({ value: job.id, description: `${job.title} (${job.state})` }));
    }
    case 'service': {
      const services = await ask<Array<{ app: string; service: string; branch: string; plugin: string }>>('/api/v1/services');
      return services.map((row) => ({ value: `${row.app}/${row.service}${row.branch ? `@${row.branch}` : ''}`, description: row.plugin }));
    }
    case 'cron': {
      const crons = await ask<Array<{ app?: string; name?: string; schedule?: string }>>('/api/v1/crons');
      return crons.filter((row) => typeof row.name === 'string').map((row) => ({ value: row.name!, description: [row.app, row.schedule].filter(Boolean).join(' ') }));
    }
  }
}

async function apps(runningOnly: boolean): Promise<Candidate[]> {
  const rows = await ask<AppRow[]>('/api/v1/apps');
  return rows.filter((row) => !runningOnly || row.state !== 'stopped').map((row) => ({ value: row.name, description: row.state }));
}

/** Every process slot, once (the daemon and a foreground `up` both list the whole home). */
async function processes(): Promise<ProcessRow[]> {
  const rows = await ask<ProcessRow[]>('/api/v1/processes');
  return [...new Map(rows.map((row) => [`${row.app}/${row.instance}.${row.index}`, row])).values()];
}

/** Each running app's instance types, with how many processes each runs. */
async function instances(): Promise<Array<{ app: string; instance: string; count: number }>> {
  const counts = new Map<string, { app: string; instance: string; count: number }>();
  for (const row of await processes()) {
    if (row.state === 'stopped') continue;
    const key = `${row.app}/${row.instance}`;
    const entry = counts.get(key) ?? { app: row.app, instance: row.instance, count: 0 };
    entry.count++;
    counts.set(key, entry);
  }
  return [...counts.values()];
}

/**
 * Asks every running platform of this home (the daemon, foreground `up`s)
 * and merges the arrays they answer; one that does not answer in time, or
 * answers with an error, adds nothing.
 */
async function ask<T extends unknown[]>(path: string): Promise<T> {
  const { callApi } = await import('../../api/client.js');
  const { platformSockets } = await import('../running-platform.js');
  const answers = await Promise.all(
    platformSockets().map((socket) =>
      Promise.race([callApi<unknown>(socket, 'GET', path, undefined, ASK_MS).catch(() => undefined), delay(ASK_MS, undefined, { ref: false })]),
    ),
  );
  return answers.flatMap((answer) => (Array.isArray(answer) ? answer : [])) as T;
}

const BASH = `# paasmaker completion for bash: source <(paasmaker completion bash)
_paasmaker_completions() {
  local cur=\${COMP_WORDS[COMP_CWORD]} line IFS=$'\\n'
  COMPREPLY=()
  for line in $(paasmaker __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null); do
    case $line in
      :dirs) compopt -o filenames 2>/dev/null; COMPREPLY+=($(compgen -d -- "$cur")) ;;
      :files) compopt -o filenames 2>/dev/null; COMPREPLY+=($(compgen -f -- "$cur")) ;;
      *) COMPREPLY+=("\${line%%$'\\t'*}") ;;
    esac
  done
}
complete -F _paasmaker_completions paasmaker
`;

const ZSH = `#compdef paasmaker
# paasmaker completion for zsh: source <(paasmaker completion zsh), or save it as _paasmaker in your $fpath
_paasmaker() {
  local -a described lines
  local line
  lines=("\${(@f)$(paasmaker __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  for line in $lines; do
    case $line in
      :dirs) _path_files -/ ;;
      :files) _files ;;
      *$'\\t'*) described+=("\${\${line%%$'\\t'*}//:/\\\\:}:\${line#*$'\\t'}") ;;
      *) described+=("\${line//:/\\\\:}") ;;
    esac
  done
  (( \${#described} )) && _describe -t values 'paasmaker' described
  return 0
}
if [[ "\${funcstack[1]}" = "_paasmaker" ]]; then
  _paasmaker "$@"
else
  compdef _paasmaker paasmaker
fi
`;

const FISH = `# paasmaker completion for fish: paasmaker completion fish | source
function __paasmaker_complete
    set -l words (commandline -opc)
    set -l current (commandline -ct)
    test (count $current) -eq 0; and set current ''
    for line in (paasmaker __complete $words[2..-1] $current 2>/dev/null)
        switch $line
            case :dirs
                __fish_complete_directories $current
            case :files
                __fish_complete_path $current
            case '*'
                echo $line
        end
    end
end
complete -c paasmaker -f -a '(__paasmaker_complete)'
`;

const SCRIPTS: Record<Shell, string> = { bash: BASH, zsh: ZSH, fish: FISH };
