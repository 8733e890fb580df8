import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getRuntime, runtimeNames } from '../../runtimes/index.js';
import type { PaasmakerError } from '../../src/shared/errors.js';
import { context, sandbox } from './context.js';

describe('runtime registry', () => {
  it('knows node, python, php, ruby, static and shell', () => {
    expect(runtimeNames).toEqual(['node', 'python', 'php', 'ruby', 'static', 'shell']);
    for (const name of runtimeNames) expect(getRuntime(name).name).toBe(name);
  });

  it('rejects an unknown runtime, listing the known ones', () => {
    let error: PaasmakerError | undefined;
    try {
      getRuntime('perl');
    } catch (caught) {
      error = caught as PaasmakerError;
    }
    expect(error?.code).toBe('RUNTIME_UNKNOWN');
    expect(error?.message).toContain('"perl"');
    expect(error?.message).toContain('node, python, php, ruby, static, shell');
    expect(() => getRuntime('toString')).toThrow(/unknown runtime/);
  });
});

describe('static and shell runtimes', () => {
  let box: ReturnType<typeof sandbox>;
  beforeEach(() => {
    box = sandbox();
  });
  afterEach(() => box.cleanup());

  it('shell runs the command as written', async () => {
    const plan = await getRuntime('shell').plan(
      context({ project: box.project, pmHome: box.pmHome, env: {}, runtime: 'shell', command: 'make serve PORT=$PORT' }),
    );
    expect(plan).toEqual({ description: 'shell', pathPrepend: [], env: {}, prepare: [], fingerprintFiles: [], command: 'make serve PORT=$PORT' });
  });

  it('static serves the root folder, or the project folder when no root is given', async () => {
    const withRoot = await getRuntime('static').plan(
      context({ project: box.project, pmHome: box.pmHome, env: {}, runtime: 'static', root: box.home }),
    );
    expect(withRoot.serve).toEqual({ root: box.home });
    expect(withRoot.command).toBeUndefined();
    const withoutRoot = await getRuntime('static').plan(context({ project: box.project, pmHome: box.pmHome, env: {}, runtime: 'static' }));
    expect(withoutRoot.serve).toEqual({ root: box.project });
  });

  it('static fails with a hint when the folder is missing', async () => {
    const missing = join(box.project, 'public');
    const error = (await getRuntime('static')
      .plan(context({ project: box.project, pmHome: box.pmHome, env: {}, runtime: 'static', root: missing }))
      .catch((caught: PaasmakerError) => caught)) as PaasmakerError;
    expect(error.code).toBe('RUNTIME_MISSING');
    expect(error.message).toContain(missing);
    expect(error.message).toContain('paasmaker.yml:4:5');
    expect(error.hint).toContain('root:');
  });
});
