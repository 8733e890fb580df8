import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEV_SERVERS } from '../../src/engine/dev-servers.js';
import { portFlags } from '../../src/engine/port-flags.js';
import { readinessHint } from '../../src/engine/readiness-hint.js';
import type { ResolvedInstance, ResolvedManifest } from '../../src/manifest/index.js';
import type { ProcessInfo } from '../../src/supervisor/index.js';

// A development server that ignores PORT gets its port (and address) flag
// added to the command as run; one that sets it, or reads PORT, is left alone.

const project = mkdtempSync(join(tmpdir(), 'pm-port-flags-'));
afterAll(() => rmSync(project, { recursive: true, force: true }));
writeFileSync(
  join(project, 'package.json'),
  JSON.stringify({
    scripts: {
      dev: 'vite',
      start: 'NODE_ENV=development astro dev',
      fixed: 'vite --port 3000',
      both: 'vite & tsc --watch',
      nested: 'npm run dev',
      next: 'next dev',
      build: 'vite build',
    },
  }),
);
mkdirSync(join(project, 'web'));
writeFileSync(join(project, 'web', 'package.json'), JSON.stringify({ scripts: { serve: 'ng serve' } }));

const run = (command: string, enabled?: boolean) => portFlags(command, { directory: project, enabled });
const VITE = '--port $PORT --strictPort --host 127.0.0.1';

describe('the table of development servers: each entry gets its flags when the command has none', () => {
  const cases: Array<[string, string, string]> = [
    ['Vite', 'vite', `vite ${VITE}`],
    ['Astro', 'astro dev', 'astro dev --port $PORT --host 127.0.0.1'],
    ['Angular CLI', 'ng serve', 'ng serve --port $PORT --host 127.0.0.1'],
    ['React Router', 'react-router dev', `react-router dev ${VITE}`],
    ['Remix', 'remix vite:dev', `remix vite:dev ${VITE}`],
    ['Nuxt', 'nuxi dev', 'nuxi dev --port $PORT --host 127.0.0.1'],
    ['Expo', 'expo start', 'expo start --port $PORT'],
    ['Gatsby', 'gatsby develop', 'gatsby develop --port $PORT --host 127.0.0.1'],
    ['Storybook', 'storybook dev', 'storybook dev --port $PORT --exact-port --host 127.0.0.1'],
    ["Python's http.server", 'python3 -m http.server', 'python3 -m http.server $PORT --bind 127.0.0.1'],
    ['Flask', 'flask --app hello run', 'flask --app hello run --port $PORT --host 127.0.0.1'],
    ['Uvicorn', 'uvicorn main:app --reload', 'uvicorn main:app --reload --port $PORT'],
    ['Hugo', 'hugo server', 'hugo server --port $PORT --bind 127.0.0.1'],
    ['Jekyll', 'jekyll serve', 'jekyll serve --port $PORT --host 127.0.0.1'],
    ['Rails', 'bin/rails s', 'bin/rails s -p $PORT -b 127.0.0.1'],
  ];
  it.each(cases)('%s: `%s` runs as `%s`', (name, command, expected) => {
    const flags = run(command);
    expect(flags.server?.name).toBe(name);
    expect(flags.command).toBe(expected);
  });

  it('every entry of the table is covered above', () => {
    expect(new Set(DEV_SERVERS.map((server) => server.name))).toEqual(new Set(cases.map(([name]) => name)));
  });

  it("Vite and the frameworks built on it get the router's *.local.paasmaker names allowed", () => {
    expect(run('npx vite').env).toEqual({ __VITE_ADDITIONAL_SERVER_ALLOWED_HOSTS: '.local.paasmaker' });
    expect(run('python3 -m http.server').env).toEqual({});
  });
});

describe('runners and wrappers', () => {
  it.each([
    ['npx vite', `npx vite ${VITE}`],
    ['npx --yes vite', `npx --yes vite ${VITE}`],
    ['pnpm exec vite dev', `pnpm exec vite dev ${VITE}`],
    ['bunx vite', `bunx vite ${VITE}`],
    ['./node_modules/.bin/vite', `./node_modules/.bin/vite ${VITE}`],
    ['exec vite', `exec vite ${VITE}`],
    ['NODE_ENV=development npx vite --open', `NODE_ENV=development npx vite --open ${VITE}`],
    ['cross-env DEBUG=1 vite', `cross-env DEBUG=1 vite ${VITE}`],
    ['bundle exec jekyll serve', 'bundle exec jekyll serve --port $PORT --host 127.0.0.1'],
    ['bundle exec rails server', 'bundle exec rails server -p $PORT -b 127.0.0.1'],
    ['uv run flask run', 'uv run flask run --port $PORT --host 127.0.0.1'],
    ['python -m flask run', 'python -m flask run --port $PORT --host 127.0.0.1'],
    ['python3.12 -m uvicorn app:app', 'python3.12 -m uvicorn app:app --port $PORT'],
    ['python3 -m http.server -d public', 'python3 -m http.server -d public $PORT --bind 127.0.0.1'],
    ['cd web && npx ng serve', 'cd web && npx ng serve --port $PORT --host 127.0.0.1'],
  ])('`%s` runs as `%s`', (command, expected) => {
    expect(run(command).command).toBe(expected);
  });
});

describe('package.json scripts: `npm run X` is followed into the script', () => {
  it.each([
    ['npm run dev', `npm run dev -- ${VITE}`],
    ['npm run dev -- --open', `npm run dev -- --open ${VITE}`],
    ['npm start', 'npm start -- --port $PORT --host 127.0.0.1'],
    ['pnpm dev', `pnpm dev ${VITE}`],
    ['pnpm run dev', `pnpm run dev ${VITE}`],
    ['yarn dev', `yarn dev ${VITE}`],
    ['bun run dev', `bun run dev ${VITE}`],
    ['npm run nested', `npm run nested -- ${VITE}`],
    ['cd web && npm run serve', 'cd web && npm run serve -- --port $PORT --host 127.0.0.1'],
  ])('`%s` runs as `%s`', (command, expected) => {
    expect(run(command).command).toBe(expected);
  });

  it('a script that sets its port, reads PORT, builds or is no script at all is left as written', () => {
    for (const command of ['npm run fixed', 'npm run dev -- --port 4000', 'npm run next', 'npm run build', 'npm run missing', 'npm install', 'yarn constructor']) {
      expect(run(command).command, command).toBe(command);
    }
    expect(run('npm run fixed').left).toBe('sets-port');
    expect(run('npm run next').server).toBeUndefined();
  });

  it('a script with a background job is named, not changed', () => {
    const flags = run('npm run both');
    expect(flags).toMatchObject({ command: 'npm run both', left: 'not-simple', needed: VITE.split(' ') });
    expect(flags.server?.name).toBe('Vite');
  });
});

describe('commands left as written', () => {
  it.each([
    ['vite --port 3000', 'sets-port'],
    ['vite --port=$PORT', 'sets-port'],
    ['npx vite -- --port $PORT', 'sets-port'],
    ['python3 -m http.server 8000', 'sets-port'],
    ['python3 -m http.server $PORT', 'sets-port'],
    ['flask run -p 5001', 'sets-port'],
    ['bin/rails server -p3000', 'sets-port'],
    ['npx vite | tee log', 'not-simple'],
    ['npx vite > out.log', 'not-simple'],
    ['npx vite &', 'not-simple'],
    ['npx vite; echo done', 'not-last'],
    ['(cd web && vite)', 'not-simple'],
    ['vite $(echo --open)', 'not-simple'],
  ])('`%s`: %s', (command, left) => {
    const flags = run(command);
    expect(flags.command).toBe(command);
    expect(flags.left).toBe(left);
  });

  it('port_flag: false leaves the command, and its environment, alone', () => {
    expect(run('npx vite', false)).toMatchObject({ command: 'npx vite', left: 'off', env: {} });
  });

  it('the address flag is not added when the command says where to listen', () => {
    expect(run('vite --host 0.0.0.0').command).toBe('vite --host 0.0.0.0 --port $PORT --strictPort');
    expect(run('python3 -m http.server --bind ::1').command).toBe('python3 -m http.server --bind ::1 $PORT');
  });

  it('what reads PORT or builds is not a development server here', () => {
    for (const command of ['next dev', 'node server.js', 'vite build', 'npx vite optimize', 'python3 app.py', 'php -S 127.0.0.1:$PORT', 'rails console', 'echo vite']) {
      expect(run(command), command).toMatchObject({ command, added: [] });
      expect(run(command).server, command).toBeUndefined();
    }
  });
});

describe('the readiness hint', () => {
  const manifest = { file: join(project, 'paasmaker.yml'), directory: project } as ResolvedManifest;
  const instance = (command: string, portFlag?: boolean) => ({ name: 'web', command, health: { path: undefined }, ...(portFlag === undefined ? {} : { portFlag }) }) as unknown as ResolvedInstance;
  const gaveUp = { port: 41000, notReady: { afterMs: 10_000, listening: [{ address: '127.0.0.1', port: 5173 }] } } as ProcessInfo;

  it('names the flag a known server needs when Paasmaker could not add it', () => {
    expect(readinessHint(gaveUp, instance('npx vite | tee vite.log'), manifest)).toBe(
      'it runs Vite, which takes its port from a flag, not from PORT, and Paasmaker adds none to a command with a pipe, a subshell, a redirection or a background job (or a package.json script that has one): add `--port $PORT --strictPort --host 127.0.0.1` to the Vite command (instances.web.command in paasmaker.yml, or the package.json script it runs)',
    );
    expect(readinessHint(gaveUp, instance('npx vite', false), manifest)).toContain('Paasmaker adds none with port_flag: false: add `--port $PORT --strictPort --host 127.0.0.1`');
    expect(readinessHint({ ...gaveUp, notReady: { afterMs: 10_000, listening: [] } }, instance('npm run both'), manifest)).toContain('it runs Vite');
  });

  it('says what it said before for other commands', () => {
    expect(readinessHint(gaveUp, instance('node server.js'), manifest)).toMatch(/^your app listens on 5173, not on the port it is given/);
    expect(readinessHint(gaveUp, instance('vite --port 5173'), manifest)).toMatch(/^your app listens on 5173, not on the port it is given/);
  });
});
