import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getRuntime } from '../../runtimes/index.js';
import { venvDirectory } from '../../runtimes/python/index.js';
import type { PaasmakerError } from '../../src/shared/errors.js';
import { context, fakeBinary, sandbox, writeFile } from './context.js';

const python = getRuntime('python');

describe('python runtime', () => {
  let box: ReturnType<typeof sandbox>;
  let bin: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(() => {
    box = sandbox();
    bin = join(box.root, 'bin');
    env = { PATH: bin, HOME: box.home };
  });
  afterEach(() => box.cleanup());

  const plan = (version?: string, planEnv = env) =>
    python.plan(context({ project: box.project, pmHome: box.pmHome, env: planEnv, runtime: 'python', version, command: 'python3 app.py' }));
  const pyenv = (version: string) => fakeBinary(join(box.home, '.pyenv', 'versions', version, 'bin', 'python3'), `Python ${version}`);

  it('without requirements.txt: the PATH python, unbuffered output, nothing to prepare', async () => {
    const system = fakeBinary(join(bin, 'python3'), 'Python 3.11.4');
    const result = await plan();
    expect(result).toEqual({
      description: `python 3.11.4 (${system})`,
      pathPrepend: [],
      env: { PYTHONUNBUFFERED: '1' },
      prepare: [],
      fingerprintFiles: [],
      command: 'python3 app.py',
    });
  });

  it('with requirements.txt: a venv under PAASMAKER_HOME, created if needed, then pip install', async () => {
    const system = fakeBinary(join(bin, 'python3'), 'Python 3.11.4');
    const requirements = writeFile(join(box.project, 'requirements.txt'), '# web\nflask==3.0.0\n');
    writeFile(join(box.project, 'pyproject.toml'), '');
    const result = await plan();
    const venv = venvDirectory(box.pmHome, 'myapp', box.project);
    expect(venv).toMatch(new RegExp(`^${box.pmHome}/venvs/myapp-[0-9a-f]{8}$`));
    expect(result.env).toEqual({ PYTHONUNBUFFERED: '1', VIRTUAL_ENV: venv });
    expect(result.pathPrepend).toEqual([join(venv, 'bin')]);
    expect(result.fingerprintFiles).toEqual([requirements, join(box.project, 'pyproject.toml')]);
    const quotedVenvPython = `'${join(venv, 'bin', 'python')}'`; // PAASMAKER_HOME has a space in it here
    expect(result.prepare).toEqual([
      `${quotedVenvPython} -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null || ${system} -m venv --clear '${venv}'`,
      `${quotedVenvPython} -m pip install --disable-pip-version-check -r ${requirements}`,
    ]);
  });

  it('skips pip when requirements.txt lists nothing', async () => {
    fakeBinary(join(bin, 'python3'), 'Python 3.11.4');
    writeFile(join(box.project, 'requirements.txt'), '# nothing yet\n\n');
    const result = await plan();
    expect(result.prepare).toHaveLength(1);
    expect(result.prepare[0]).toContain('-m venv --clear');
  });

  it('creates a working venv for real, and leaves it alone the second time', async () => {
    writeFile(join(box.project, 'requirements.txt'), '# standard library only\n');
    const realEnv = { ...process.env };
    const result = await plan(undefined, realEnv);
    const run = async () => {
      for (const step of result.prepare) await execa('/bin/sh', ['-c', step], { cwd: box.project, env: realEnv });
    };
    await run();
    const venv = result.env.VIRTUAL_ENV!;
    const venvPython = join(venv, 'bin', 'python');
    expect(existsSync(venvPython)).toBe(true);
    const inside = await execa(venvPython, ['-c', 'import sys; print(sys.prefix)'], { env: realEnv });
    expect(inside.stdout).toBe(venv);
    const created = statSync(join(venv, 'pyvenv.cfg')).mtimeMs;
    await run();
    expect(statSync(join(venv, 'pyvenv.cfg')).mtimeMs).toBe(created);
  });

  it('looks for python3.X and pyenv installs only when python3 does not fit', async () => {
    fakeBinary(join(bin, 'python3'), 'Python 3.11.4');
    const py312 = fakeBinary(join(bin, 'python3.12'), 'Python 3.12.4');
    const py310 = fakeBinary(join(bin, 'python3.10'), 'Python 3.10.2');
    const py313 = pyenv('3.13.0');
    await plan('3.11');
    expect(existsSync(`${py312}.calls`)).toBe(false);

    const minor = await plan('~3.12');
    expect(minor.description).toBe(`python 3.12.4 (${py312})`);
    expect(minor.pathPrepend).toEqual([]);
    expect(existsSync(`${py310}.calls`)).toBe(false); // 3.10 cannot fit ~3.12: never asked

    const highest = await plan('>=3.12');
    expect(highest.description).toBe(`python 3.13.0 (${py313})`);
    expect(highest.pathPrepend).toEqual([join(py313, '..')]);
  });

  it('uses the venv with the chosen interpreter', async () => {
    fakeBinary(join(bin, 'python3'), 'Python 3.11.4');
    const py313 = pyenv('3.13.0');
    writeFile(join(box.project, 'requirements.txt'), 'requests\n');
    const result = await plan('3.13');
    expect(result.prepare[0]).toContain(`!= (3, 13))' 2>/dev/null || ${py313} -m venv`);
    expect(result.pathPrepend).toEqual([join(result.env.VIRTUAL_ENV!, 'bin'), join(py313, '..')]);
  });

  it('reads .python-version as "that minor release"', async () => {
    fakeBinary(join(bin, 'python3'), 'Python 3.11.4');
    const py312 = pyenv('3.12.7');
    writeFile(join(box.project, '.python-version'), '3.12.1\n');
    const result = await plan();
    expect(result.description).toContain(py312);
    expect(result.fingerprintFiles).toEqual([join(box.project, '.python-version')]);
  });

  it('explains a version nobody has', async () => {
    const system = fakeBinary(join(bin, 'python3'), 'Python 3.11.4');
    pyenv('3.10.1');
    const error = (await plan('>=3.14').catch((caught: PaasmakerError) => caught)) as PaasmakerError;
    expect(error.code).toBe('RUNTIME_VERSION');
    expect(error.message).toBe(`instance "web" needs python >=3.14 (paasmaker.yml:4:5), but the newest python found is 3.11.4 (${system})`);
    expect(error.hint).toContain('`pyenv install 3.14`');
  });

  it('says what to install when there is no python3 at all', async () => {
    const error = (await plan().catch((caught: PaasmakerError) => caught)) as PaasmakerError;
    expect(error.code).toBe('RUNTIME_MISSING');
    expect(error.hint).toContain('python3-venv');
  });
});
