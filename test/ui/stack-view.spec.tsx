import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { columnsFor, StackApp, StackView, visibleLogs, type ViewState } from '../../src/ui/app.js';
import { findMatch, logWindow, scrolled } from '../../src/ui/log-pane.js';
import { initialView } from '../../src/ui/stack-view.js';
import { versionText } from '../../src/shared/version-text.js';
import { degradedText, warningText, type Feed, type ProcessView, type Snapshot } from '../../src/ui/model.js';

const row = (over: Partial<ProcessView> = {}): ProcessView => ({ key: 'shop/web.0', app: 'shop', instance: 'web', index: 0, name: 'web.0', state: 'running', pid: 4242, port: 41000, url: 'http://shop.localhost:7654/', restarts: 0, rps: 3.5, cpu: 2, memory: 48 * 1024 * 1024, ...over });
const snapshot = (over: Partial<Snapshot> = {}): Snapshot => ({
  title: 'shop',
  routerUrl: 'http://shop.localhost:7654/',
  job: 'up shop: success',
  degraded: null,
  warnings: [],
  quit: 'q stop shop and quit',
  processes: [row(), row({ key: 'shop/worker.0', instance: 'worker', name: 'worker.0', state: 'backoff', url: null, port: null, pid: null, restarts: 3 })],
  services: [{ app: 'shop', name: 'db', plugin: 'postgres', resource: 'shop__db' }],
  versions: [],
  logs: [
    { source: 'web.0', app: 'shop', stream: 'out', line: 'listening on 41000', time: 0, seq: 0 },
    { source: 'worker.0', app: 'shop', stream: 'err', line: 'Error: cannot reach the queue', time: 0, seq: 1 },
  ],
  ...over,
});
const view: ViewState = initialView;

describe('the terminal UI', () => {
  it('shows each process with its state (a symbol too), URL, pid and traffic, the services, logs and status', () => {
    const { lastFrame } = render(<StackView snapshot={snapshot()} view={view} width={120} height={40} color={false} />);
    const frame = lastFrame()!;
    expect(frame).toMatch(/web\.0\s+● running\s+http:\/\/shop\.localhost:7654\/\s+3\.5\s+4242\s+2%\s+48M\s+41000\s+0/);
    expect(frame).toMatch(/worker\.0\s+↻ backoff/);
    expect(frame).toContain('services: db (postgres)');
    expect(frame).toContain('worker.0     | Error: cannot reach the queue');
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
    expect(frame.split('\n').at(-2)).toContain('DEGRADED since 17:20:01: the disk is full, state and logs wait (paasmaker doctor)');
    expect(render(<StackView snapshot={snapshot()} view={view} width={160} height={30} color={false} />).lastFrame()).not.toContain('DEGRADED');
  });

  it("shows the platform's latest warning above the status line: its first line, the app it concerns, and how many more", () => {
    const warnings = [{ text: 'the DNS responder for *.local.paasmaker could not use 127.0.0.1:5353 (taken); <app>.localhost still works', app: null }, { text: 'router: bug, the request was answered 500 or closed: Error: boom\n    at somewhere (file.js:1:1)', app: 'shop' }].map(warningText);
    const frame = render(<StackView snapshot={snapshot({ warnings })} view={view} width={160} height={30} color={false} />).lastFrame()!;
    expect(frame.split('\n').at(-3)).toBe('⚠ shop: router: bug, the request was answered 500 or closed: Error: boom (+1 more)');
    expect(frame).not.toContain('at somewhere');
  });

  it('drops columns by priority at 80 columns, keeping the name, state, URL and restarts (a crash loop shows)', () => {
    expect(columnsFor(78).map((column) => column.title)).toEqual(['PROCESS', 'STATE', 'URL', 'RESTARTS']);
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
      stop: async (process) => (calls.push(`stop ${process.name}`), 'stopped'),
      start: async (process) => (calls.push(`start ${process.name}`), 'running'),
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
    expect(lastFrame()).toContain('r rolling restart of its instance type');
    stdin.write('x');
    await tick();
    stdin.write('c');
    await tick();
    expect(calls).toContain('clear');
    stdin.write('q');
    await tick();
    expect(calls).toContain('quit');
  });

  it('s and S stop and start the selected process, its outcome in the status line', async () => {
    const calls: string[] = [];
    const feed: Feed = {
      snapshot: () => snapshot(),
      restart: async () => undefined,
      stop: async (process) => (calls.push(`stop ${process.name}`), 'stopped'),
      start: async (process) => (calls.push(`start ${process.name}`), 'running'),
      clearLogs: () => undefined,
      quit: async () => undefined,
    };
    const { stdin, lastFrame } = render(<StackApp feed={feed} color={false} openUrl={() => false} intervalMs={10} />);
    const tick = () => new Promise((resolve) => setTimeout(resolve, 30));
    await tick();
    stdin.write('s');
    await tick();
    expect(lastFrame()).toContain('web.0: stopped');
    stdin.write('S');
    await tick();
    await tick();
    expect(calls).toEqual(['stop web.0', 'start web.0']);
    expect(lastFrame()).toContain('web.0: running');
    expect(lastFrame()).toContain('s stop · S start');
  });

  it('the header names the project, the router URL and how many processes run and fail', () => {
    const frame = render(<StackView snapshot={snapshot()} view={view} width={120} height={30} color={false} />).lastFrame()!;
    expect(frame.split('\n')[0]).toContain('shop  http://shop.localhost:7654/  1 running · 1 failing');
  });

  it("the header says the app's current version, and when a dev up holds APP.localhost instead", () => {
    const deployed = render(<StackView snapshot={snapshot({ versions: [{ app: 'shop', text: versionText({ version: 3, servedBy: 'version' })! }] })} view={view} width={120} height={30} color={false} />).lastFrame()!;
    expect(deployed.split('\n')[0]).toContain('shop v3  http://shop.localhost:7654/  1 running · 1 failing');
    const dev = render(<StackView snapshot={snapshot({ versions: [{ app: 'shop', text: versionText({ version: 3, servedBy: 'dev' })! }] })} view={view} width={120} height={30} color={false} />).lastFrame()!;
    expect(dev.split('\n')[0]).toContain('shop v3 (dev serving)  http://shop.localhost:7654/');
    // Never deployed: no version at all.
    expect(versionText({ version: null, servedBy: 'dev' })).toBeNull();
    expect(render(<StackView snapshot={snapshot()} view={view} width={120} height={30} color={false} />).lastFrame()!.split('\n')[0]).toContain('shop  http://');
  });

  it('paasmaker top lists the current version of each deployed app on a line of its own', () => {
    const processes = [row(), row({ key: 'blog/web.0', app: 'blog', url: 'http://blog.localhost:7654/' })];
    const versions = [
      { app: 'shop', text: 'v3' },
      { app: 'blog', text: 'v1 (dev serving)' },
    ];
    const frame = render(<StackView snapshot={snapshot({ title: 'paasmaker top · 2 app(s)', processes, versions })} view={view} width={120} height={30} color={false} />).lastFrame()!;
    expect(frame).toContain('versions: shop v3 · blog v1 (dev serving)');
    expect(frame.split('\n').length).toBeLessThan(30);
  });

  it('a filter that matches nothing says so; timestamps show with t', () => {
    const frame = render(<StackView snapshot={snapshot()} view={{ ...view, filter: 'nothing like this' }} width={120} height={30} color={false} />).lastFrame()!;
    expect(frame).toContain('no lines match "nothing like this"');
    const stamped = render(<StackView snapshot={snapshot()} view={{ ...view, timestamps: true }} width={120} height={30} color={false} />).lastFrame()!;
    expect(stamped).toMatch(/\d\d:\d\d:\d\d web\.0\s+\| listening on 41000/);
  });

  it('scrolls a long log back and forth, and a search walks its matches from the newest', () => {
    const logs = Array.from({ length: 100 }, (_, seq) => ({ source: 'web.0', app: 'shop', stream: 'out' as const, line: seq % 10 === 3 ? `needle ${seq}` : `hay ${seq}`, time: 0, seq }));
    expect(logWindow(logs, null, 10)).toEqual({ start: 90, end: 100 });
    const back = scrolled(logs, null, 10, -25);
    expect(logWindow(logs, back, 10)).toEqual({ start: 65, end: 75 });
    expect(logWindow(logs, scrolled(logs, back, 10, Number.NEGATIVE_INFINITY), 10)).toEqual({ start: 0, end: 10 });
    expect(scrolled(logs, back, 10, 1000)).toBeNull();
    const first = findMatch(logs, { search: 'NEEDLE', match: null, anchor: null }, 10, 'older')!;
    expect(first.match).toBe(93);
    const second = findMatch(logs, { search: 'needle', ...first }, 10, 'older')!;
    expect(second.match).toBe(83);
    expect(logWindow(logs, second.anchor, 10).start).toBeLessThanOrEqual(83);
    expect(findMatch(logs, { search: 'needle', ...second }, 10, 'newer')!.match).toBe(93);
    expect(findMatch(logs, { search: 'nowhere', match: null, anchor: null }, 10, 'older')).toBeNull();
  });
});

describe('a log line of the terminal UI', () => {
  it('drawn as one styled text, is the frame its nested texts drew: colours, stderr, system lines, timestamps, escapes of its own, truncation', async () => {
    const { default: chalk } = await import('chalk');
    const { Box } = await import('ink');
    const { LogLine, MarkedLogLine } = await import('../../src/ui/stack-view.js');
    const level = chalk.level;
    chalk.level = 3;
    try {
      const lines = ['listening on 41000', '', '\u001b[31mERROR\u001b[39m the queue is down, \u001b[1mretrying\u001b[22m', 'x'.repeat(200), 'tab\there ünïcode 中文 ✓'];
      let compared = 0;
      for (const text of lines)
        for (const stream of ['out', 'err', 'system'] as const)
          for (const color of [true, false])
            for (const timestamps of [true, false])
              for (const multiApp of [true, false]) {
                const line = { source: stream === 'system' ? 'web:prepare' : 'web.0', app: 'shop', stream, line: text, time: 1_700_000_000_000, seq: 7 };
                const lineView = { ...initialView, timestamps, match: compared % 3 === 0 ? 7 : null };
                const draw = (node: React.ReactElement) => render(<Box width={72}>{node}</Box>).lastFrame();
                const nested = draw(<MarkedLogLine line={line} view={lineView} multiApp={multiApp} color={color} />);
                expect(draw(<LogLine line={line} view={lineView} multiApp={multiApp} color={color} />)).toBe(nested);
                if (color && text !== '') expect(nested).toContain('\u001b[');
                compared++;
              }
      expect(compared).toBe(120);
    } finally {
      chalk.level = level;
    }
  });
});
