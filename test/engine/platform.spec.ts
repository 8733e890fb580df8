import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Platform, type InstanceStateEvent, type JobLogEvent, type JobUpdateEvent, type LogLineEvent } from '../../src/engine/index.js';
import { loadManifest } from '../../src/manifest/index.js';
import { alive, examples, getByHost, tempHome, until } from '../helpers/cli.js';

// The engine as every face drives it: open a platform in a fresh home, then
// apply a project, reload it, scale it and take it down.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function openPlatform(): Promise<{ platform: Platform; home: string }> {
  const { home, cleanup } = tempHome();
  cleanups.push(cleanup);
  const platform = await Platform.open({ home, proxy: { port: 0 } });
  cleanups.push(() => platform.close());
  return { platform, home };
}

function record(platform: Platform) {
  const states: InstanceStateEvent[] = [];
  const jobs: JobUpdateEvent[] = [];
  const lines: LogLineEvent[] = [];
  const jobLines: JobLogEvent[] = [];
  platform.on('job.log', (event) => jobLines.push(event));
  platform.on('instance.state', (event) => states.push(event));
  platform.on('job.update', (event) => jobs.push(event));
  platform.on('log.line', (event) => lines.push(event));
  return { states, jobs, lines, jobLines };
}

describe('a platform in a fresh home', () => {
  it('runs a project through apply → reload → scale → down, as a face sees it', { timeout: 60_000 }, async () => {
    const { platform } = await openPlatform();
    const seen = record(platform);
    const manifest = loadManifest(join(examples, 'hello-node'));

    // apply: one web process, running, routed by name, its jobs and output reported.
    await platform.apply(manifest);
    expect(platform.runningApps().map((running) => running.application.name)).toEqual(['hello-node']);
    const [web] = platform.processes('hello-node');
    expect(web).toMatchObject({ app: 'hello-node', instance: 'web', index: 0, state: 'running' });
    expect(web!.pid).toBeGreaterThan(0);
    expect(platform.unready('hello-node')).toEqual([]);
    const url = platform.appUrls('hello-node').url;
    expect(url).toBe(`http://hello-node.localhost:${platform.routerPort}/`);
    expect(await getByHost(platform.routerPort!, 'hello-node.localhost')).toContain('Hello from Paasmaker');
    expect(seen.states).toContainEqual(expect.objectContaining({ app: 'hello-node', instance: 'web', index: 0, state: 'running' }));
    expect(seen.jobs).toContainEqual(expect.objectContaining({ app: 'hello-node', title: 'up hello-node', state: 'success' }));
    expect(seen.jobs).toContainEqual(expect.objectContaining({ app: 'hello-node', title: 'start web', state: 'success' }));
    await until(() => seen.lines.some((line) => line.app === 'hello-node' && line.source === 'web.0' && line.line.includes('listening')), 5000, 'the app’s output');

    // reload: a new process serves, the old one is gone, the router never stops answering.
    expect(await platform.reload('hello-node', { reason: 'test' })).toBe(true);
    const [reloaded] = platform.processes('hello-node');
    expect(reloaded).toMatchObject({ instance: 'web', index: 0, state: 'running' });
    expect(reloaded!.pid).not.toBe(web!.pid);
    await until(() => !alive(web!.pid!), 5000, 'the old process to stop');
    expect(await getByHost(platform.routerPort!, 'hello-node.localhost')).toContain(`pid ${reloaded!.pid}`);
    expect(seen.jobs).toContainEqual(expect.objectContaining({ title: 'reload web', state: 'running', detail: 'test' }));
    expect(seen.jobs).toContainEqual(expect.objectContaining({ title: 'reload web', state: 'success' }));

    // scale: 3 processes, each running; back to 1, the others stop.
    expect(await platform.scale('hello-node', 'web', 3)).toEqual({ from: 1, to: 3 });
    const three = platform.processes('hello-node');
    expect(three.map((row) => [row.index, row.state])).toEqual([
      [0, 'running'],
      [1, 'running'],
      [2, 'running'],
    ]);
    const answers = new Set<string>();
    for (let n = 0; n < 12; n++) answers.add((await getByHost(platform.routerPort!, 'hello-node.localhost')).replace(/.*pid (\d+).*\n?/s, '$1'));
    expect(answers.size).toBe(3);
    expect(await platform.scale('hello-node', 'web', 1)).toEqual({ from: 3, to: 1 });
    expect(platform.processes('hello-node').map((row) => row.index)).toEqual([0]);
    for (const row of three.slice(1)) await until(() => !alive(row.pid!), 5000, 'a scaled-away process to stop');
    expect(seen.jobs).toContainEqual(expect.objectContaining({ title: 'scale web 3 → 1', state: 'success' }));

    // down: every process stops, the app is listed as stopped, the router no longer has it.
    const last = platform.processes('hello-node')[0]!;
    expect(await platform.down('hello-node')).toBe('stopped');
    expect(platform.runningApps()).toEqual([]);
    expect(alive(last.pid!)).toBe(false);
    expect(platform.processes('hello-node').every((row) => row.state === 'stopped')).toBe(true);
    expect(platform.state.apps.get('hello-node')).toMatchObject({ state: 'stopped' });
    expect(await getByHost(platform.routerPort!, 'hello-node.localhost')).not.toContain('Hello from Paasmaker');
    expect(await platform.down('hello-node')).toBe('not-running');
  });

  it('each line a job writes to its own log is an event as it is written, the same lines the log gives back', async () => {
    const { platform } = await openPlatform();
    const seen = record(platform);
    await platform.jobs.run('hello-node', 'migrate', async (job) => {
      job.log('applying 0001_users', 'out');
      job.log('a warning on stderr', 'err');
    });
    await expect(platform.jobs.run('hello-node', 'seed', () => Promise.reject(new Error('seed data missing')))).rejects.toThrow('seed data missing');
    expect(seen.jobLines.map(({ app, stream, line }) => ({ app, stream, line }))).toEqual([
      { app: 'hello-node', stream: 'out', line: 'applying 0001_users' },
      { app: 'hello-node', stream: 'err', line: 'a warning on stderr' },
      { app: 'hello-node', stream: 'err', line: 'seed data missing' },
    ]);
    for (const id of new Set(seen.jobLines.map((line) => line.id))) {
      const streamed = seen.jobLines.filter((line) => line.id === id).map(({ time, stream, line }) => ({ time, stream, line }));
      // The file is written through a stream: what it gives back arrives a moment later.
      await until(() => platform.jobs.logLines(id).length === streamed.length, 5000, 'the job log to be written');
      expect(platform.jobs.logLines(id)).toEqual(streamed);
    }
  });

  it('a job run inside another is its child; once every job has ended, work one left behind starts a job of its own', async () => {
    const { platform } = await openPlatform();
    const seen = record(platform);
    let fire!: () => void;
    const gate = new Promise<void>((resolve) => (fire = resolve));
    let later: Promise<unknown> | undefined;
    await platform.jobs.run('hello-node', 'deploy', async () => {
      await platform.jobs.run('hello-node', 'build', async () => undefined);
      later = gate.then(() => platform.jobs.run('hello-node', 'clean up', async () => undefined));
    });
    fire();
    await later;
    const created = (title: string) => seen.jobs.find((event) => event.title === title && event.state === 'new')!;
    expect(created('build').parent).toBe(created('deploy').id);
    expect(created('clean up').parent).toBeUndefined();
    // What a job waits for failing fails the job, with the reason: it does not stay WAITING.
    await expect(platform.jobs.run('hello-node', 'start web', async () => undefined, { waitFor: () => Promise.reject(new Error('the database did not start')) })).rejects.toThrow('the database did not start');
    expect(seen.jobs.filter((event) => event.title === 'start web').map((event) => event.state)).toEqual(['new', 'waiting', 'failed']);
    expect(seen.jobs.findLast((event) => event.title === 'start web')?.detail).toBe('the database did not start');
  });

  it('a job aborted while it waits stays aborted: its work is not done when the wait ends', async () => {
    const { platform } = await openPlatform();
    const seen = record(platform);
    let release!: () => void;
    const dependency = new Promise<void>((resolve) => (release = resolve));
    let ran = false;
    const start = platform.jobs.run('hello-node', 'start worker', async () => void (ran = true), { detail: 'after web', waitFor: () => dependency });
    const outcome = start.then(() => 'ran', (error: Error & { code?: string }) => `${error.code}: ${error.message}`);
    const id = seen.jobs.find((event) => event.title === 'start worker')!.id;
    expect(platform.jobs.abort(id, 'aborted by request')).toBe(true);
    release();
    expect(await outcome).toBe('JOB_ABORTED: start worker was aborted before it ran: aborted by request');
    expect(ran).toBe(false);
    expect(seen.jobs.filter((event) => event.title === 'start worker').map((event) => event.state)).toEqual(['new', 'waiting', 'aborted']);
    expect(platform.state.jobs.get(id)?.state).toBe('aborted');
  });

  it('a command environment carries the app’s settings without a port', async () => {
    const { platform } = await openPlatform();
    const env = await platform.commandEnvironment(loadManifest(join(examples, 'hello-node')));
    expect(env.GREETING).toBe('Hello from Paasmaker');
    expect(env.PORT).toBeUndefined();
  });

  it('close stops every process it started', { timeout: 30_000 }, async () => {
    const { home, cleanup } = tempHome();
    cleanups.push(cleanup);
    const platform = await Platform.open({ home, proxy: { port: 0 } });
    await platform.apply(loadManifest(join(examples, 'hello-node')));
    const [web] = platform.processes('hello-node');
    await platform.close();
    expect(alive(web!.pid!)).toBe(false);
    const again = await Platform.open({ home });
    cleanups.push(() => again.close());
    expect(again.reapReport).toEqual({ reaped: 0, recycled: 0, gone: 0 });
    expect(again.processes('hello-node').every((row) => row.state === 'stopped')).toBe(true);
  });
});
