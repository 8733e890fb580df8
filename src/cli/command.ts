import { Argument, Command, Option } from 'commander';

// A command is one file that declares what the user types (its name,
// arguments, options and examples) and the handler that runs it. The
// declarations are registered on the program from one list
// (commands/index.ts), so every command file is loaded to build the program:
// a file imports at its top only what is light (node built-ins, the API
// client, src/shared, cli/output) and loads the engine, the manifest reader,
// the state view or the terminal UI inside its handler, when it runs.

/** What a positional argument or an option's value names, for shell completion. */
export type Completes = 'app' | 'app-or-instance' | 'logs-target' | 'scale' | 'job' | 'running-job' | 'service' | 'cron' | 'dir' | 'file' | 'app-or-dir' | 'shell';

export interface ArgumentSpec {
  /** As commander writes it: `<id>`, `[dir]`, `[command...]`. */
  name: string;
  description: string;
  default?: string;
  completes?: Completes;
}

export interface OptionSpec {
  /** As commander writes it: `-n, --lines <n>`, `--json`, `--no-watch`. */
  flags: string;
  description: string;
  default?: string;
  completes?: Completes;
}

/** What a handler is given: the positional arguments in order, the options, and the argv `main` was called with. */
export interface Invocation<Options> {
  args: Array<string | string[] | undefined>;
  options: Options;
  argv: readonly string[];
}

export interface CommandSpec<Options = Record<string, never>> {
  /** The words that name it: `ps`, or `services destroy` under `services`. */
  name: string;
  description: string;
  arguments?: readonly ArgumentSpec[];
  options?: readonly OptionSpec[];
  /** Command lines (without `$ `), each with what it does after two spaces or more. */
  examples?: readonly string[];
  usage?: string;
  hidden?: boolean;
  /** Options after the first positional belong to it (`paasmaker run -- psql -c …`). */
  passThroughOptions?: boolean;
  /** Its exit code. A group of subcommands (`daemon`, `cron`) without a handler of its own has none. */
  run?(invocation: Invocation<Options>): Promise<number> | number;
}

/** Declares a command, typing its handler's options. */
export function defineCommand<Options = Record<string, never>>(spec: CommandSpec<Options>): CommandSpec<Options> {
  return spec;
}

const completions = new WeakMap<Argument | Option, Completes>();

/** What an argument or option of the program names, as its command declared it. */
export function completesOf(declared: Argument | Option): Completes | undefined {
  return completions.get(declared);
}

/**
 * Adds every declared command to the program, in the order given (a group
 * before its subcommands). A handler's exit code goes to setExit.
 */
export function registerCommands(program: Command, specs: readonly CommandSpec<never>[], argv: readonly string[], setExit: (code: number) => void): void {
  for (const spec of specs as readonly CommandSpec<unknown>[]) {
    const words = spec.name.split(' ');
    let parent = program;
    for (const word of words.slice(0, -1)) {
      const found = parent.commands.find((command) => command.name() === word);
      if (!found) throw new Error(`command "${spec.name}" is listed before its group "${word}"`);
      parent = found;
    }
    const command = parent.command(words.at(-1)!, { hidden: spec.hidden }).description(spec.description);
    for (const declared of spec.arguments ?? []) {
      const argument = new Argument(declared.name, declared.description);
      if (declared.default !== undefined) argument.default(declared.default);
      if (declared.completes) completions.set(argument, declared.completes);
      command.addArgument(argument);
    }
    for (const declared of spec.options ?? []) {
      const option = new Option(declared.flags, declared.description);
      if (declared.default !== undefined) option.default(declared.default);
      if (declared.completes) completions.set(option, declared.completes);
      command.addOption(option);
    }
    if (spec.usage) command.usage(spec.usage);
    if (spec.passThroughOptions) command.passThroughOptions();
    if (spec.examples && spec.examples.length > 0) command.addHelpText('after', `\nExamples:\n${spec.examples.map((line) => `  $ ${line}`).join('\n')}`);
    const run = spec.run;
    if (run) {
      command.action(async (...params: unknown[]) => {
        const args = params.slice(0, command.registeredArguments.length) as Invocation<unknown>['args'];
        setExit(await run({ args, options: command.opts(), argv }));
      });
    }
  }
}
