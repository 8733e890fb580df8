import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, closeSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { State } from '../../src/state/index.js';
import { bin, cliEnv, examples, runCli, tempHome } from '../helpers/cli.js';

const cleanups: Array<() => void> = [];
afterAll(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A state.db with an app and a few hundred pages of traffic, as a platform that ran for a while leaves it. */
let good: string;
beforeAll(() => {
  const { home, cleanup } = tempHome();
  cleanups.push(cleanup);
  good = join(home, 'state.db');
  const state = State.open(good);
  state.apps.upsert({ name: 'shop', directory: '/p/shop', manifest: '/p/shop/paasmaker.yml', state: 'stopped', ownerPid: null, ownerStart: null });
  const now = Math.floor(Date.now() / 1000);
  state.traffic.record(
    Array.from({ length: 3000 }, (_, i) => ({ app: 'shop', instance: 'web', at: now - i, requests: 1, statuses: [0, 0, 1, 0, 0, 0], bytesIn: 1, bytesOut: 1, p50: 1, p90: 1, p99: 1 })),
  );
  state.close();
});

function homeWith(damage: (file: string) => void): string {
  const { home, cleanup } = tempHome();
  cleanups.push(() => {
    chmodSync(home, 0o700);
    cleanup();
  });
  damage(join(home, 'state.db'));
  return home;
}

function overwrite(file: string, at: number, bytes: Buffer): void {
  const fd = openSync(file, 'r+');
  writeSync(fd, bytes, 0, bytes.length, at);
  closeSync(fd);
}

const VARIANTS: Array<{ name: string; damage: (file: string) => void; says: RegExp }> = [
  {
    name: 'truncated to half',
    damage: (file) => {
      copyFileSync(good, file);
      truncateSync(file, Math.floor(statSync(file).size / 2));
    },
    says: /is damaged/,
  },
  { name: 'with a garbage header', damage: (file) => (copyFileSync(good, file), overwrite(file, 0, Buffer.alloc(100, 'X'))), says: /is not an SQLite database/ },
  {
    name: 'with garbage in the middle',
    damage: (file) => {
      copyFileSync(good, file);
      overwrite(file, Math.floor(statSync(file).size / 2 / 4096) * 4096, Buffer.alloc(8192, 0xa5));
    },
    says: /is damaged/,
  },
  { name: 'that is a text file', damage: (file) => writeFileSync(file, 'these are my notes, not a database\n'.repeat(30)), says: /is not an SQLite database/ },
  { name: 'that is a directory', damage: (file) => mkdirSync(file), says: /is a directory/ },
];

describe('a damaged state.db: every command that reads it says which file, what is wrong and what to do (exit 1, never 70)', () => {
  for (const variant of VARIANTS) {
    it(`state.db ${variant.name}: ps and up exit 1 with the file, the fault and the exact mv; nothing is deleted`, async () => {
      const home = homeWith(variant.damage);
      const file = join(home, 'state.db');
      const before = statSync(file);
      for (const args of [['ps'], ['up', join(examples, 'hello-node'), '--no-tui']]) {
        const result = await runCli(args, { home });
        expect(result.exitCode, `${args[0]}: ${result.stderr}`).toBe(1);
        expect(result.stderr).toContain(`the state database ${file}`);
        expect(result.stderr).toMatch(variant.says);
        expect(result.stderr).toMatch(new RegExp(`hint: .*mv ${file} ${file}\\.(damaged|moved)`));
        expect(result.stderr).toContain(`${home}/services and ${home}/data`);
        expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
      }
      expect(existsSync(file)).toBe(true);
      expect(statSync(file).size).toBe(before.size);
    });
  }

  it('a damaged state.db: daemon start says so in the terminal (exit 1) and starts nothing', async () => {
    const home = homeWith((file) => writeFileSync(file, 'not a database\n'));
    const result = await runCli(['daemon', 'start'], { home });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`the state database ${join(home, 'state.db')} is not an SQLite database`);
    expect(existsSync(join(home, 'paasmaker.sock'))).toBe(false);
  });

  it('doctor fails a check naming the damaged state.db, with the hint as its fix', async () => {
    const home = homeWith((file) => writeFileSync(file, 'not a database\n'));
    const result = await runCli(['doctor'], { home });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain(`✗ the state database ${join(home, 'state.db')} is not an SQLite database`);
    expect(result.stdout).toMatch(/fix: Paasmaker rebuilds its state .*mv /);
  });

  it('after the suggested mv, paasmaker works again from a fresh state and the old file is kept', async () => {
    const home = homeWith((file) => writeFileSync(file, 'not a database\n'));
    const failed = await runCli(['ps'], { home });
    const mv = /hint: .*?(mv \S+ \S+)$/m.exec(failed.stderr)![1]!.split(' ');
    await execa(mv[0]!, mv.slice(1));
    const result = await runCli(['ps'], { home });
    expect(result.exitCode).toBe(0);
    expect(readFileSync(`${join(home, 'state.db')}.damaged`, 'utf8')).toBe('not a database\n');
  });
});

/** As root every file is writable: the read-only cases run the CLI as `nobody`, as a user without rights would. */
const asRoot = process.getuid?.() === 0;
const NOBODY = 65534;

function runAs(args: string[], home: string) {
  return execa(bin, args, { cwd: home, env: cliEnv(home), reject: false, timeout: 60_000, ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}) });
}

describe('a state.db Paasmaker may not write', () => {
  it('a read-only state.db: up exits 1 saying it cannot be written, and how to fix it; ps, which only reads, still lists what it holds', async () => {
    const home = homeWith((file) => copyFileSync(good, file));
    const file = join(home, 'state.db');
    if (asRoot) chownSync(home, NOBODY, NOBODY), chownSync(file, NOBODY, NOBODY);
    chmodSync(file, 0o400);
    const result = await runAs(['up', join(examples, 'hello-node'), '--no-tui'], home);
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stderr).toContain(`the state database ${file} cannot be written: you may not write it`);
    expect(result.stderr).toContain(`chmod u+w ${file}`);
    const ps = await runAs(['ps'], home);
    expect(ps.exitCode, ps.stderr).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o400);
  });

  it('a read-only PAASMAKER_HOME folder: ps exits 1 naming the folder', async () => {
    const home = homeWith((file) => copyFileSync(good, file));
    const file = join(home, 'state.db');
    if (asRoot) chownSync(home, NOBODY, NOBODY), chownSync(file, NOBODY, NOBODY);
    chmodSync(home, 0o500);
    const result = await runAs(['ps'], home);
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stderr).toContain(`the state database ${file} cannot be written: you may not write its folder ${home}`);
    expect(result.stderr).toContain(`chmod u+w ${home}`);
  });
});
