import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tlsChecks } from '../../src/engine/doctor-tls.js';
import { LocalCa } from '../../src/tls/index.js';

// doctor's https checks on a real home: the TLS port as the machine holds it,
// the root on disk, and the stores of a temporary HOME (no NSS database, no
// system store looked at beyond reading it).

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function home(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-doctor-tls-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'user'));
  return dir;
}

async function listening(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { server, port: (server.address() as { port: number }).port };
}

const env = (dir: string) => ({ HOME: join(dir, 'user'), PATH: '' });

describe("doctor's https checks", () => {
  it('a free TLS port and no root yet pass; a TLS port another program holds is a warning that says who and what to do', async () => {
    const dir = home();
    const { port } = await listening();
    const held = tlsChecks(dir, port, [], env(dir));
    expect(held[0]).toEqual({ name: 'tls', ok: true, what: expect.stringMatching(new RegExp(`^port ${port}, the router's https port, is held by .*node.* \\(pid ${process.pid}\\): the router listens without https$`)), fix: expect.stringContaining('PAASMAKER_TLS_PORT=N') });
    expect(held[1]).toEqual({ name: 'tls-root', ok: true, what: expect.stringContaining('no local certificate authority yet'), fix: null });
    expect(held).toHaveLength(2);
  });

  it("a platform's TLS port held by that platform passes, named as its", async () => {
    const dir = home();
    const { port } = await listening();
    expect(tlsChecks(dir, 7655, [{ pid: process.pid, kind: 'daemon', proxyPort: 1, dnsPort: null, tlsPort: port }], env(dir))[0]).toEqual({
      name: 'tls',
      ok: true,
      what: `the router of the daemon (pid ${process.pid}) listens with TLS (https) on port ${port}`,
      fix: null,
    });
  });

  it('the root: valid until its end date; within 30 days of it a warning, past it a failure; an unreadable root.pem a failure with the way out', async () => {
    const dir = home();
    const ca = await LocalCa.open(join(dir, 'tls'));
    const end = Date.parse(ca.root.validTo);
    const rootCheck = (now: number) => tlsChecks(dir, undefined, [], env(dir), now).find((check) => check.name === 'tls-root');
    expect(rootCheck(Date.now())).toMatchObject({ ok: true, fix: null, what: expect.stringContaining(`valid until ${new Date(end).toISOString().slice(0, 10)}`) });
    expect(rootCheck(end - 10 * 86_400_000)).toMatchObject({ ok: true, what: expect.stringContaining('ends on'), fix: expect.stringContaining('paasmaker trust') });
    expect(rootCheck(end + 1000)).toMatchObject({ ok: false, what: expect.stringContaining('expired on'), fix: expect.stringContaining('mv ') });
    writeFileSync(join(dir, 'tls', 'root.pem'), 'not a certificate');
    expect(rootCheck(Date.now())).toMatchObject({ ok: false, what: expect.stringContaining('cannot be read'), fix: expect.stringContaining(`mv ${join(dir, 'tls')}`) });
  });

  it('a damaged record of where the root was trusted is a failure that names the file', async () => {
    const dir = home();
    await LocalCa.open(join(dir, 'tls'));
    writeFileSync(join(dir, 'tls', 'trust.json'), '{');
    const trust = tlsChecks(dir, undefined, [], env(dir)).filter((check) => check.name === 'trust');
    expect(trust.some((check) => !check.ok && check.what.includes(join(dir, 'tls', 'trust.json')))).toBe(true);
  });
});
