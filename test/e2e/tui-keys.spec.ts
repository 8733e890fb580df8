import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bin, psJson, tempHome, until } from '../helpers/cli.js';
import { haveTmux, openTerminal } from '../helpers/tmux.js';

// The terminal UI driven by its keys in a real terminal (tmux): the log
// pane's history, search and filter, and one process stopped and started.

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

/** A project whose web prints 600 numbered lines (two of them holding "needle") and serves; a worker idles. */
function project(): string {
  const directory = mkdtempSync(join(tmpdir(), 'pm-tui-keys-'));
  cleanups.push(() => rmSync(directory, { recursive: true, force: true }));
  writeFileSync(
    join(directory, 'web.js'),
    [
      "for (let i = 1; i <= 600; i++) console.log(`line ${i}${i === 120 ? ' needle-b' : ''}${i === 450 ? ' needle-a' : ''}`);",
      "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT, '127.0.0.1');",
    ].join('\n'),
  );
  writeFileSync(join(directory, 'worker.js'), "console.log('worker ready'); setInterval(() => {}, 1000);\n");
  writeFileSync(join(directory, 'paasmaker.yml'), ['application:', '  name: tuikeys', 'instances:', '  web:', '    command: node web.js', '  worker:', '    command: node worker.js', '    standalone: true', ''].join('\n'));
  return directory;
}

function upInTerminal(size: { width: number; height: number }, env = '') {
  const { home, cleanup } = tempHome();
  // A person's terminal: CI=true (set when the suite runs in CI) would turn the UI into plain lines.
  const command = `env -u CI PAASMAKER_HOME=${home} PAASMAKER_PROXY_PORT=0 ${env || 'PAASMAKER_DNS_PORT=0'} ${bin} up ${project()}; echo EXIT=$?; sleep 60`;
  const terminal = openTerminal(home, 'pm-tui-keys', command, size);
  cleanups.push(() => {
    terminal.keys('q');
    terminal.close();
    cleanup();
  });
  return { home, terminal };
}

/** The rows of the log pane: "web.0        | line 12" → "line 12". */
const paneLines = (screen: string) => [...screen.matchAll(/^\S+\s+\| (.*)$/gm)].map((match) => match[1]!.trimEnd());

describe.skipIf(!haveTmux)('the terminal UI, by its keys', () => {
  it('scrolls the log back 500 lines and forth, follows again with G; / finds a line and n the next; a filter that matches nothing says so; the header and warnings', async () => {
    // The DNS responder's port, taken: its warning shows while the UI is up.
    const taken = createSocket('udp4');
    await new Promise<void>((resolve) => taken.bind(0, '127.0.0.1', resolve));
    cleanups.push(() => taken.close());
    const dnsPort = taken.address().port;
    const { terminal } = upInTerminal({ width: 120, height: 40 }, `PAASMAKER_DNS_PORT=${dnsPort}`);
    const { screen, keys, type } = terminal;
    await until(() => paneLines(screen()).includes('line 600') && /tuikeys\s+https:\/\/tuikeys\.localhost:\d+\/\s+2 running · 0 failing/.test(screen()), 45_000, 'the header with both running, the last line shown');
    expect(screen()).toContain(`⚠ the DNS responder for *.local.paasmaker could not use 127.0.0.1:${dnsPort} (taken)`);

    keys('g');
    await until(() => paneLines(screen()).includes('line 1') && !paneLines(screen()).includes('line 600'), 5000, 'the oldest lines after g');
    expect(screen()).toMatch(/line \d+ of \d+ · G follows/);
    keys('PageDown');
    await until(() => paneLines(screen()).includes('line 40'), 5000, 'a page on');
    keys('G');
    await until(() => paneLines(screen()).at(-1) === 'line 600' || paneLines(screen()).at(-1) === 'worker ready', 5000, 'the newest lines again');
    expect(screen()).not.toContain('G follows');
    for (let page = 0; page < 16; page++) keys('PageUp');
    await until(() => paneLines(screen()).some((line) => /^line [1-9]\d?$/.test(line)), 5000, 'a line 500 back after PgUp');
    keys('j', 'j', 'k', 'G');

    keys('/');
    type('NEEDLE');
    keys('Enter');
    await until(() => /\/NEEDLE 1 of 2/.test(screen()), 5000, 'the first match');
    expect(paneLines(screen())).toContain('line 450 needle-a');
    keys('n');
    await until(() => /\/NEEDLE 2 of 2/.test(screen()), 5000, 'n on to the older match');
    expect(paneLines(screen())).toContain('line 120 needle-b');
    expect(paneLines(screen())).not.toContain('line 450 needle-a');
    keys('N');
    await until(() => /\/NEEDLE 1 of 2/.test(screen()), 5000, 'N back to the newer match');
    keys('Escape');
    await until(() => !screen().includes('/NEEDLE'), 5000, 'Esc clears the search');

    keys('f');
    type('no such text');
    await until(() => screen().includes('no lines match "no such text"'), 5000, 'no lines match');
    keys('Escape');
    await until(() => !screen().includes('no such text') && paneLines(screen()).length > 10, 5000, 'Esc clears the filter: every line again');

    keys('t');
    await until(() => /^\d\d:\d\d:\d\d \S+\s+\| /m.test(screen()), 5000, 'timestamps');
  }, 90_000);

  it('at 80 columns: RESTARTS stays; s stops the selected process alone, S starts it again', async () => {
    const { home, terminal } = upInTerminal({ width: 80, height: 30 });
    const { screen, keys } = terminal;
    await until(() => /worker\.0\s+● running/.test(screen()) && /web\.0\s+● running/.test(screen()), 20_000, 'both running');
    const header = screen().split('\n').find((line) => line.startsWith('PROCESS'))!;
    expect(header).toMatch(/PROCESS\s+STATE\s+URL\s+RESTARTS/);
    expect(header).not.toContain('PID');
    expect(screen().split('\n').every((line) => line.length <= 80)).toBe(true);

    const rows = screen().split('\n').filter((line) => /^(web|worker)\.0\s/.test(line));
    const before = (await psJson(home)).find((row) => row.instance === 'worker')!;
    for (let down = rows.findIndex((line) => line.startsWith('worker.0')); down > 0; down--) keys('Down');
    keys('s');
    await until(async () => (await psJson(home)).find((row) => row.instance === 'worker')?.state === 'stopped', 15_000, 'ps: the worker stopped');
    await until(() => /worker\.0\s+○ stopped/.test(screen()) && screen().includes('worker.0: stopped'), 5000, 'the UI: the worker stopped');
    expect((await psJson(home)).find((row) => row.instance === 'web')?.state).toBe('running');
    expect(screen()).toMatch(/1 running · 0 failing · 1 stopped/);

    keys('S');
    const after = await until(async () => (await psJson(home)).find((row) => row.instance === 'worker' && row.state === 'running'), 15_000, 'ps: the worker running again');
    expect(after.pid).not.toBe(before.pid);
    await until(() => /worker\.0\s+● running/.test(screen()) && screen().includes('worker.0: running'), 5000, 'the UI: the worker running');
  });
});
