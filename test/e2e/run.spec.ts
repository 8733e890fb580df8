import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { examples, runCli, tempHome } from '../helpers/cli.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

function home(): string {
  const { home, cleanup } = tempHome();
  cleanups.push(cleanup);
  return home;
}

describe('paasmaker run', () => {
  const project = join(examples, 'hello-node');
  const print = ['node', '-e', 'console.log(process.env.PAASMAKER_APP + " " + process.env.GREETING + " " + (process.env.PORT ?? "no port"))'];

  it.each([
    ['in the project folder, after --', ['run', '--', ...print], project],
    ['in the project folder, without --', ['run', ...print], project],
    ['with the folder, after --', ['run', project, '--', ...print], undefined],
    ['with the folder, without --', ['run', project, ...print], undefined],
  ])('runs a command with the app environment %s', async (_how, args, cwd) => {
    const result = await runCli(args, { home: home(), cwd });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe('hello-node Hello from Paasmaker no port');
  });

  it('says what to do when there is nothing to run, and passes the exit code through', async () => {
    const nothing = await runCli(['run'], { home: home(), cwd: project });
    expect(nothing.exitCode).toBe(2);
    expect(nothing.stderr).toContain('nothing to run');
    const failing = await runCli(['run', '--', 'sh', '-c', 'exit 3'], { home: home(), cwd: project });
    expect(failing.exitCode).toBe(3);
  });
});
