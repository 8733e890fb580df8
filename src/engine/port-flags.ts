import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEV_SERVERS, type DevServer } from './dev-servers.js';

/** What Paasmaker does to a launch command that runs a server taking its port from a flag. */
export interface PortFlags {
  /** The command as it is run: with the words added, or as written. */
  command: string;
  /** The known server the command runs, when it runs one. */
  server?: DevServer;
  /** The words added (empty: none). */
  added: string[];
  /** The words the server needs to listen where the router reaches it: what a hint names. */
  needed: string[];
  /**
   * Why nothing was added though a known server runs: the command sets the
   * port itself, it is more than a list of simple commands (a pipe, a
   * subshell, a background job), the server runs before its last part, or
   * `port_flag: false` turned it off.
   */
  left?: 'sets-port' | 'not-simple' | 'not-last' | 'off';
  /** Environment the server needs (Vite's allowed hosts). */
  env: Record<string, string>;
}

interface Word {
  /** As written, quotes included. */
  raw: string;
  /** With its quotes removed ($VARIABLES stay as written). */
  value: string;
}

/** A command split at `&&`, `||`, `;`, `|`, `&` and parentheses: the parts, the operators between them, and whether it holds what a word list cannot say (a subshell, a redirection, a substitution). */
interface Lexed {
  parts: Word[][];
  operators: string[];
  unsafe: boolean;
}

/** Splits a shell command into words and operators, as /bin/sh would for the simple cases it handles. */
function lex(command: string): Lexed {
  const parts: Word[][] = [[]];
  const operators: string[] = [];
  let unsafe = false;
  let raw = '';
  let value = '';
  let inWord = false;
  const end = () => {
    if (inWord) parts[parts.length - 1]!.push({ raw, value });
    raw = '';
    value = '';
    inWord = false;
  };
  for (let i = 0; i < command.length; i++) {
    const char = command[i]!;
    if (char === "'" || char === '"') {
      const close = command.indexOf(char, i + 1);
      if (close < 0) return { parts, operators, unsafe: true };
      const inner = command.slice(i + 1, close);
      if (char === '"' && /[`\\]|\$\(/.test(inner)) unsafe = true;
      raw += command.slice(i, close + 1);
      value += inner;
      inWord = true;
      i = close;
    } else if (char === '\\') {
      raw += command.slice(i, i + 2);
      value += command[i + 1] ?? '';
      inWord = true;
      i++;
    } else if (/\s/.test(char) && char !== '\n') {
      end();
    } else if (/[;&|\n()]/.test(char)) {
      end();
      if (char === '(' || char === ')') unsafe = true;
      const pair = command.slice(i, i + 2);
      const operator = pair === '&&' || pair === '||' ? pair : char;
      i += operator.length - 1;
      operators.push(operator);
      parts.push([]);
    } else {
      if (/[<>`]/.test(char) || (char === '$' && command[i + 1] === '(')) unsafe = true;
      raw += char;
      value += char;
      inWord = true;
    }
  }
  end();
  return { parts, operators, unsafe };
}

const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;
const programName = (word: string) => word.slice(word.lastIndexOf('/') + 1);

/** Options of a runner that take a value (`npx --package vite vite`): their value is not the program. */
const RUNNER_OPTIONS_WITH_VALUE = new Set(['-p', '--package', '-c', '--call', '--with', '--python', '--from', '--env-file', '-e']);

/** Skips the words of a runner that starts the program named after it (`npx -y`, `bundle exec`, `cross-env A=1`): the index of the program. */
function skipRunner(words: string[], at: number): number {
  let i = at;
  while (i < words.length && (words[i]!.startsWith('-') || ASSIGNMENT.test(words[i]!))) {
    if (words[i] === '--') return i + 1;
    i += RUNNER_OPTIONS_WITH_VALUE.has(words[i]!) ? 2 : 1;
  }
  return i;
}

/** Runners that start the program named after their own options: `npx -y vite`, `bundle exec rails s`. */
const RUNNERS: ReadonlyArray<readonly string[]> = [
  ['exec'],
  ['env'],
  ['npx'],
  ['bunx'],
  ['cross-env'],
  ['npm', 'exec'],
  ['npm', 'x'],
  ['pnpm', 'exec'],
  ['pnpm', 'dlx'],
  ['yarn', 'exec'],
  ['yarn', 'dlx'],
  ['bun', 'x'],
  ['bundle', 'exec'],
  ['poetry', 'run'],
  ['pipenv', 'run'],
  ['uv', 'run'],
  ['rye', 'run'],
];

/** Package managers that run a package.json script by name: `npm run dev`, `pnpm dev`, `yarn start`. */
const SCRIPT_RUNNERS = new Set(['npm', 'pnpm', 'yarn', 'bun']);

/** Where the words that follow a script's name go: npm needs `--` before them, the others pass them on as they are. */
const needsSeparator = (manager: string) => manager === 'npm';

function packageScripts(directory: string): Record<string, string> {
  try {
    const scripts = (JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as { scripts?: unknown }).scripts;
    if (!scripts || typeof scripts !== 'object') return {};
    return Object.fromEntries(Object.entries(scripts).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  } catch {
    return {};
  }
}

/** The script a package manager's words run, and the index of the words passed on to it; undefined when they run none. */
function scriptOf(words: string[], directory: string): { script: string; passed: number } | undefined {
  const manager = programName(words[0] ?? '');
  if (!SCRIPT_RUNNERS.has(manager)) return undefined;
  const scripts = packageScripts(directory);
  let i = 1;
  // pnpm --filter web dev, npm --silent run dev: the manager's own options first.
  while (i < words.length && words[i]!.startsWith('-')) i++;
  let name = words[i];
  if (name === 'run' || name === 'run-script' || name === 'rum' || name === 'urn') name = words[++i];
  else if (!(name === 'start' || (manager !== 'npm' && name !== undefined && Object.hasOwn(scripts, name)))) return undefined;
  if (name === undefined || !Object.hasOwn(scripts, name)) return undefined;
  return { script: scripts[name]!, passed: i + 1 };
}

/** The words of a part that set an option of the server: `--port`, `--port=N`, or `-p` (a short option: also `-pN`). */
function hasOption(args: string[], options: readonly string[]): boolean {
  return args.some((arg) => options.some((option) => arg === option || arg.startsWith(`${option}=`) || (/^-[A-Za-z]$/.test(option) && arg.startsWith(option) && /^\d|^\$/.test(arg.slice(2)))));
}

/** A positional argument (not an option or an option's value) after the server's own words: its port. */
function hasPositional(args: string[], optionsWithValue: readonly string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (optionsWithValue.includes(arg)) i++;
    else if (!arg.startsWith('-')) return true;
  }
  return false;
}

/** The server a list of words runs, and the words after the program (its arguments). */
function serverOf(words: string[]): { server: DevServer; args: string[] } | undefined {
  const program = programName(words[0] ?? '');
  const rest = words.slice(1);
  for (const server of DEV_SERVERS) {
    if (!server.programs.includes(program)) continue;
    for (const serves of server.serves) {
      let at = 0;
      let matched = 0;
      for (; at < rest.length && matched < serves.length; at++) if (rest[at] === serves[matched]) matched++;
      if (matched < serves.length) continue;
      if (serves.length === 0 && server.notServing?.includes(rest.find((word) => !word.startsWith('-')) ?? '')) continue;
      return { server, args: serves.length === 0 ? rest : rest.slice(at) };
    }
  }
  return undefined;
}

/** What a server needs beyond its arguments: [] when they set its port; else the port words, and the host words unless they set the address. */
function neededWords(server: DevServer, args: string[]): { needed: string[]; setsPort: boolean } {
  const needed = [...server.port, ...(server.host ?? [])];
  const setsPort = hasOption(args, server.portOptions) || (server.positionalPort !== undefined && hasPositional(args, server.positionalPort.optionsWithValue));
  if (setsPort) return { needed, setsPort };
  return { needed: [...server.port, ...(server.host && !hasOption(args, server.hostOptions ?? []) ? server.host : [])], setsPort };
}

interface Found {
  server: DevServer;
  /** Words to append to the part: none when its arguments set the port. */
  add: string[];
  needed: string[];
  /** The script it runs is more than one simple command. */
  notSimple?: boolean;
}

/** The known server one simple command runs (through runners and package.json scripts), and the words to add at its end. */
function findIn(words: string[], directory: string, depth: number): Found | undefined {
  let i = 0;
  while (i < words.length && ASSIGNMENT.test(words[i]!)) i++;
  const runnerAt = (at: number) => RUNNERS.find((runner) => runner.every((word, n) => (n === 0 ? programName(words[at] ?? '') : words[at + n]) === word));
  for (let runner = runnerAt(i); runner; runner = runnerAt(i)) i = skipRunner(words, i + runner.length);
  const command = words.slice(i);
  const direct = serverOf(command);
  if (direct) {
    const { needed, setsPort } = neededWords(direct.server, direct.args);
    return { server: direct.server, add: setsPort ? [] : needed, needed };
  }
  const script = depth < 3 ? scriptOf(command, directory) : undefined;
  if (!script) return undefined;
  const passed = command.slice(script.passed);
  const lexed = lex(script.script);
  const inner = lexed.parts.map((part) => findIn(part.map((word) => word.value), directory, depth + 1)).find((found) => found !== undefined);
  if (!inner) return undefined;
  const simple = !lexed.unsafe && lexed.parts.length === 1;
  if (!simple) return { ...inner, add: [], notSimple: true };
  const innerWords = lexed.parts[0]!.map((word) => word.value);
  const { needed, setsPort } = neededWords(inner.server, [...innerWords, ...passed]);
  if (setsPort) return { server: inner.server, add: [], needed };
  const separate = needsSeparator(programName(command[0]!)) && !passed.includes('--');
  return { server: inner.server, add: [...(separate ? ['--'] : []), ...needed], needed };
}

/**
 * The launch command with the port (and address) flags a known development
 * server needs added at its end, when it runs one without them (`npx vite`
 * → `npx vite --port $PORT --strictPort --host 127.0.0.1`). Only a command
 * whose server runs in its last part, joined by `&&` or `;`, gets them;
 * `npm run dev` and friends are followed into package.json's script.
 */
export function portFlags(command: string, options: { directory: string; enabled?: boolean }): PortFlags {
  const lexed = lex(command.trim());
  // A trailing `;` or newline ends the last part; it makes none.
  while (lexed.parts.length > 1 && lexed.parts[lexed.parts.length - 1]!.length === 0) {
    lexed.parts.pop();
    lexed.operators.pop();
  }
  let directory = options.directory;
  let found: { found: Found; last: boolean } | undefined;
  lexed.parts.forEach((part, index) => {
    const words = part.map((word) => word.value);
    // `cd web && npm run dev` reads web/package.json.
    if (words[0] === 'cd' && words[1] !== undefined && !words[1].startsWith('$')) directory = resolve(directory, words[1]);
    if (found) return;
    const inPart = findIn(words, directory, 0);
    if (inPart) found = { found: inPart, last: index === lexed.parts.length - 1 };
  });
  if (!found) return { command, added: [], needed: [], env: {} };
  const { server, add, needed, notSimple } = found.found;
  const env = { ...server.env };
  const same = { command, server, added: [], needed, env };
  if (options.enabled === false) return { ...same, env: {}, left: 'off' };
  if (add.length === 0 && !notSimple) return { ...same, left: 'sets-port' };
  if (notSimple || lexed.unsafe || lexed.operators.some((operator) => operator !== '&&' && operator !== ';')) return { ...same, left: 'not-simple' };
  if (!found.last) return { ...same, left: 'not-last' };
  if (/[;&\n]\s*$/.test(command.trim())) return { ...same, left: 'not-simple' };
  return { command: `${command.trimEnd()} ${add.join(' ')}`, server, added: add, needed, env };
}
