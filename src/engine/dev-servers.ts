/**
 * Development servers that take their port from a flag, not from PORT: when
 * an instance's command runs one without saying its port, Paasmaker adds the
 * words below (see port-flags.ts). One entry per server; add one here and a
 * line to test/engine/port-flags.spec.ts.
 *
 * Next.js (`next dev`, `next start`), Express, Fastify, Django's runserver
 * via a PORT-aware manage.py, Rails (it reads PORT) and most app servers read
 * PORT themselves: they are not listed, and their commands stay as written.
 * Nor is `php -S`, which cannot start without its address (the php runtime's
 * own command gives it 127.0.0.1:$PORT).
 */
export interface DevServer {
  /** What the user knows it as, for messages: "Vite". */
  name: string;
  /** The program, as the command names it (its path left out): vite, ng, python3. */
  programs: readonly string[];
  /**
   * The words after the program that make it serve: a subcommand (`astro dev`),
   * a module (`-m http.server`). An alternative matches when its words follow
   * the program in that order (options may come between: `flask --app hello run`);
   * [] matches the program alone.
   */
  serves: ReadonlyArray<readonly string[]>;
  /** Subcommands that do not serve (`vite build`): the first word after the program, for a server whose `serves` includes []. */
  notServing?: readonly string[];
  /** Options that already set the port: the command is left alone. `--port` also covers `--port=N`. */
  portOptions: readonly string[];
  /** Options that already set the address: the host words are not added. */
  hostOptions?: readonly string[];
  /** The port given as a positional argument (`python3 -m http.server 8000`); options taking a value are named so their value is not taken for it. */
  positionalPort?: { optionsWithValue: readonly string[] };
  /** Words that set the port ($PORT, expanded by the shell). */
  port: readonly string[];
  /** Words that make it listen where the router reaches it (127.0.0.1), where it would otherwise bind elsewhere (localhost may be ::1 only). */
  host?: readonly string[];
  /** Environment it needs behind the router (absent values only: the developer's own win). */
  env?: Readonly<Record<string, string>>;
}

/**
 * Vite 6+ answers 403 to a Host it does not know: *.localhost is allowed by
 * default, *.local.paasmaker is not. This variable (read by Vite's own config
 * resolution, and by frameworks built on it) adds one host; the leading dot
 * allows every name under it.
 */
const VITE_ENV = { __VITE_ADDITIONAL_SERVER_ALLOWED_HOSTS: '.local.paasmaker' };
const VITE_LIKE = { portOptions: ['--port'], hostOptions: ['--host'], port: ['--port', '$PORT', '--strictPort'], host: ['--host', '127.0.0.1'], env: VITE_ENV } as const;
const PYTHONS = ['python', 'python3', ...Array.from({ length: 12 }, (_, minor) => `python3.${minor + 6}`)];

export const DEV_SERVERS: readonly DevServer[] = [
  // Vite itself, and SvelteKit, Qwik, SolidStart... which run `vite dev`.
  { name: 'Vite', programs: ['vite'], serves: [[]], notServing: ['build', 'optimize'], ...VITE_LIKE },
  { name: 'Astro', programs: ['astro'], serves: [['dev'], ['preview']], ...VITE_LIKE, port: ['--port', '$PORT'] },
  { name: 'Angular CLI', programs: ['ng'], serves: [['serve'], ['s'], ['dev']], portOptions: ['--port'], hostOptions: ['--host'], port: ['--port', '$PORT'], host: ['--host', '127.0.0.1'], env: VITE_ENV },
  { name: 'React Router', programs: ['react-router'], serves: [['dev']], ...VITE_LIKE, port: ['--port', '$PORT', '--strictPort'] },
  { name: 'Remix', programs: ['remix'], serves: [['vite:dev']], ...VITE_LIKE, port: ['--port', '$PORT', '--strictPort'] },
  { name: 'Nuxt', programs: ['nuxi', 'nuxt', 'nuxt-cli'], serves: [['dev']], portOptions: ['--port', '-p'], hostOptions: ['--host', '-h'], port: ['--port', '$PORT'], host: ['--host', '127.0.0.1'], env: VITE_ENV },
  { name: 'Expo', programs: ['expo'], serves: [['start']], portOptions: ['--port', '-p'], port: ['--port', '$PORT'] },
  { name: 'Gatsby', programs: ['gatsby'], serves: [['develop'], ['serve']], portOptions: ['--port', '-p'], hostOptions: ['--host', '-H'], port: ['--port', '$PORT'], host: ['--host', '127.0.0.1'] },
  { name: 'Storybook', programs: ['storybook'], serves: [['dev']], portOptions: ['--port', '-p'], hostOptions: ['--host', '-h'], port: ['--port', '$PORT', '--exact-port'], host: ['--host', '127.0.0.1'], env: VITE_ENV },
  {
    name: "Python's http.server",
    programs: PYTHONS,
    serves: [['-m', 'http.server']],
    portOptions: [],
    hostOptions: ['--bind', '-b'],
    positionalPort: { optionsWithValue: ['--bind', '-b', '--directory', '-d', '--protocol', '-p'] },
    port: ['$PORT'],
    host: ['--bind', '127.0.0.1'],
  },
  { name: 'Flask', programs: ['flask'], serves: [['run']], portOptions: ['--port', '-p'], hostOptions: ['--host', '-h'], port: ['--port', '$PORT'], host: ['--host', '127.0.0.1'] },
  { name: 'Flask', programs: PYTHONS, serves: [['-m', 'flask', 'run']], portOptions: ['--port', '-p'], hostOptions: ['--host', '-h'], port: ['--port', '$PORT'], host: ['--host', '127.0.0.1'] },
  // uvicorn listens on 127.0.0.1 unless told otherwise.
  { name: 'Uvicorn', programs: ['uvicorn'], serves: [[]], portOptions: ['--port', '--uds', '--fd'], port: ['--port', '$PORT'] },
  { name: 'Uvicorn', programs: PYTHONS, serves: [['-m', 'uvicorn']], portOptions: ['--port', '--uds', '--fd'], port: ['--port', '$PORT'] },
  { name: 'Hugo', programs: ['hugo'], serves: [['server'], ['serve']], portOptions: ['--port', '-p'], hostOptions: ['--bind'], port: ['--port', '$PORT'], host: ['--bind', '127.0.0.1'] },
  { name: 'Jekyll', programs: ['jekyll'], serves: [['serve'], ['s'], ['server']], portOptions: ['--port', '-P'], hostOptions: ['--host', '-H'], port: ['--port', '$PORT'], host: ['--host', '127.0.0.1'] },
  // Rails reads PORT, but binds "localhost", which may be ::1 alone.
  { name: 'Rails', programs: ['rails'], serves: [['server'], ['s']], portOptions: ['--port', '-p'], hostOptions: ['--binding', '-b'], port: ['-p', '$PORT'], host: ['-b', '127.0.0.1'] },
];
