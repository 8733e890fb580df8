import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { columnsFor, StackApp, StackView, visibleLogs, type ViewState } from '../../src/ui/app.js';
import { degradedText, type Feed, type ProcessView, type Snapshot } from '../../src/ui/model.js';

const row = (over: Partial<ProcessView> = {}): ProcessView => ({ key: 'shop/web.0', app: 'shop', instance: 'web', name: 'web.0', state: 'running', pid: 4242, port: 41000, url: 'http://shop.localhost:7654/', restarts: 0, rps: 3.5, cpu: 2, memory: 48 * 1024 * 1024, ...over });
const snapshot = (over: Partial<Snapshot> = {}): Snapshot => ({
  title: 'shop',
  routerUrl: 'http://shop.localhost:7654/',
  job: 'up shop: success',
  degraded: null,
  processes: [row(), row({ key: 'shop/worker.0', instance: 'worker', name: 'worker.0', state: 'backoff', url: null, port: null, pid: null, restarts: 3 })],
  services: [{ app: 'shop', name: 'db', plugin: 'postgres', resource: 'shop__db' }],
  logs: [
    { source: 'web.0', app: 'shop', stream: 'out', line: 'listening on 41000' },
    { source: 'worker.0', app: 'shop', stream: 'err', line: 'Error: cannot reach the queue' },
  ],
  ...over,
});
const view: ViewState = { selected: 0, focused: false, filter: '', editingFilter: false, help: false, message: null };

describe('the terminal UI', () => {
  it('shows each process with its state (a symbol too), URL, pid and traffic, the services, logs and status', () => {
    const { lastFrame } = render(<StackView snapshot={snapshot()} view={view} width={120} height={40} color={false} />);
    const frame = lastFrame()!;
    expect(frame).toMatch(/web\.0\s+● running\s+http:\/\/shop\.localhost:7654\/\s+3\.5\s+4242\s+2%\s+48M\s+41000\s+0/);
    expect(frame).toMatch(/worker\.0\s+↻ backoff/);
    expect(frame).toContain('services: db (postgres)');
    expect(frame).toContain('worker.0     │ Error: cannot reach the queue');
    expect(frame).toContain('up shop: success');
    expect(frame.split('\n').length).toBeLessThan(40);
  });

  it('a finished one-shot reads as exited, a process left crashed as crashed', () => {
    const processes = [row({ key: 'shop/release.0', instance: 'release', name: 'release.0', state: 'exited', url: null, port: null, pid: null }), row({ key: 'shop/worker.0', instance: 'worker', name: 'worker.0', state: 'crashed', url: null, port: null, pid: null, restarts: 5 })];
    const frame = render(<StackView snapshot={snapshot({ processes })} view={view} width={120} height={30} color={false} />).lastFrame()!;
    expect(frame).toMatch(/release\.0\s+✓ exited/);
    expect(frame).toMatch(/worker\.0\s+✖ crashed/);
  });

  it('a full disk shows in the status line: degraded since when, and where to look', () => {
    const since = new Date(2026, 0, 1, 17, 20, 1).getTime();
    const frame = render(<StackView snapshot={snapshot({ degraded: degradedText({ since }) })} view={view} width={160} height={30} color={false} />).lastFrame()!;
    expect(frame.split('\n').at(-1)).toContain('shop  DEGRADED since 17:20:01: the disk is full, state and logs wait (paasmaker doctor)');
    expect(render(<StackView snapshot={snapshot()} view={view} width={160} height={30} color={false} />).lastFrame()).not.toContain('DEGRADED');
  });

  it('drops columns by priority at 80 columns, keeping the name, state, URL and traffic', () => {
    expect(columnsFor(78).map((column) => column.title)).toEqual(['PROCESS', 'STATE', 'URL', 'REQ/S']);
    const frame = render(<StackView snapshot={snapshot()} view={view} width={80} height={24} color={false} />).lastFrame()!;
    expect(frame.split('\n').every((line) => line.length <= 80)).toBe(true);
    expect(frame.split('\n').length).toBeLessThan(24);
  });

  it('focuses the logs of the selected row and filters them', () => {
    expect(visibleLogs(snapshot(), { ...view, selected: 1, focused: true }).map((line) => line.source)).toEqual(['worker.0']);
    expect(visibleLogs(snapshot(), { ...view, filter: 'LISTENING' }).map((line) => line.source)).toEqual(['web.0']);
  });

  it('turns keys into actions: ↓ then r restarts the worker, q quits', async () => {
    const calls: string[] = [];
    const feed: Feed = {
      snapshot: () => snapshot(),
      restart: async (process) => void calls.push(`restart ${process.instance}`),
      clearLogs: () => void calls.push('clear'),
      quit: async () => void calls.push('quit'),
    };
    const { stdin, lastFrame } = render(<StackApp feed={feed} color={false} openUrl={() => false} intervalMs={10} />);
    const tick = () => new Promise((resolve) => setTimeout(resolve, 30));
    await tick();
    stdin.write('\u001B[B'); // down
    await tick();
    stdin.write('r');
    await tick();
    expect(calls).toContain('restart worker');
    expect(lastFrame()).toContain('worker restarted');
    stdin.write('?');
    await tick();
    expect(lastFrame()).toContain('rolling restart of the selected instance type');
    stdin.write('x');
    await tick();
    stdin.write('c');
    await tick();
    expect(calls).toContain('clear');
    stdin.write('q');
    await tick();
    expect(calls).toContain('quit');
  });
});
