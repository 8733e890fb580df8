import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { callApi } from '../../src/api/client.js';
import { openApiDocument } from '../../src/api/openapi.js';
import { ApiServer } from '../../src/api/server.js';
import { reportError } from '../../src/cli/output.js';
import { Platform } from '../../src/engine/index.js';
import { ERRORS, PaasmakerError, type ErrorCode } from '../../src/shared/errors.js';
import { listenOnSocket } from '../helpers/servers.js';

// One table of error codes: the HTTP status the API answers, the code the client reads back, the exit code the CLI ends with.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-errors-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** What the CLI prints for an error, and the exit code it ends with. */
function report(error: unknown): { exit: number; text: string } {
  let text = '';
  const sink = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return { exit: reportError(error, sink), text };
}

function status(socketPath: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, headers: { host: 'localhost' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('error codes, from the API to the exit code', () => {
  it('every code in the table, thrown in a handler, answers its HTTP status and reaches the client as the same code, which exits with the table\'s exit code', async () => {
    const home = tempDir();
    const platform = await Platform.open({ home });
    let thrown: () => never = () => {
      throw new Error('unset');
    };
    const api = new ApiServer({ platform, status: () => thrown(), shutdown: () => undefined }, { log: () => undefined });
    const socket = join(home, 'api.sock');
    await api.listenSocket(socket);
    cleanups.push(async () => {
      await api.close();
      await platform.close();
    });
    const codes = Object.keys(ERRORS) as ErrorCode[];
    // The OpenAPI document lists the same codes, so a second face reads them from there.
    expect((openApiDocument() as any).components.schemas.Error.properties.code.enum).toEqual(codes);
    expect(codes).toEqual(expect.arrayContaining(['PLATFORM_UNREACHABLE', 'JOB_NOT_FOUND', 'INVALID_REQUEST', 'INTERNAL', 'USAGE']));
    for (const code of codes) {
      thrown = () => {
        throw new PaasmakerError(code, `the ${code} case`, { detail: 'a detail line' });
      };
      expect(await status(socket, '/api/v1/status'), code).toBe(ERRORS[code].status);
      const error = await callApi(socket, 'GET', '/api/v1/status').catch((caught: unknown) => caught);
      expect(error, code).toBeInstanceOf(PaasmakerError);
      expect(error, code).toMatchObject({ code, message: `the ${code} case`, detail: 'a detail line', hint: 'hint' in ERRORS[code] ? ERRORS[code].hint : undefined });
      const printed = report(error);
      expect(printed.exit, code).toBe(ERRORS[code].exit);
      expect(printed.text, code).toContain(`error: the ${code} case`);
    }
    // A bug in a handler: INTERNAL, exit 70, and the hint says where its stack is.
    thrown = () => {
      throw new TypeError('cannot read the status of nothing');
    };
    const bug = await callApi(socket, 'GET', '/api/v1/status').catch((caught: unknown) => caught);
    expect(bug).toMatchObject({ code: 'INTERNAL', message: 'internal error: cannot read the status of nothing' });
    const printed = report(bug);
    expect(printed.exit).toBe(70);
    expect(printed.text).toMatch(/hint: this is a bug in Paasmaker: the stack is in its log/);
  });

  it('a refused request exits 1, an unknown job is 404 JOB_NOT_FOUND, and a code from a newer server (or an answer that is not JSON) exits 1 with what it said', async () => {
    const home = tempDir();
    const platform = await Platform.open({ home });
    const api = new ApiServer({ platform, status: () => ({ pid: process.pid, socket: '', proxyPort: null, apiPort: null, uptime: 0, apps: [] }), shutdown: () => undefined }, { log: () => undefined });
    const socket = join(home, 'api.sock');
    await api.listenSocket(socket);
    cleanups.push(async () => {
      await api.close();
      await platform.close();
    });
    expect(await status(socket, '/api/v1/jobs/nosuch')).toBe(404);
    const job = await callApi(socket, 'GET', '/api/v1/jobs/nosuch').catch((caught: unknown) => caught);
    expect(job).toMatchObject({ code: 'JOB_NOT_FOUND', message: 'no job nosuch' });
    expect(report(job).exit).toBe(1);
    const refused = await callApi(socket, 'GET', '/api/v1/apps?lines=abc').catch((caught: unknown) => caught);
    expect(refused).toMatchObject({ code: 'INVALID_REQUEST' });
    expect(report(refused).exit).toBe(1);

    const newer = join(tempDir(), 'newer.sock');
    const server = createServer((_req, res) => res.writeHead(429, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'too many deploys today', code: 'QUOTA_EXCEEDED', hint: 'wait until tomorrow' })));
    await new Promise<void>((resolve) => server.listen(newer, resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const unknown = await callApi(newer, 'GET', '/api/v1/status').catch((caught: unknown) => caught);
    expect(unknown).toMatchObject({ code: 'API_ERROR', message: 'too many deploys today (QUOTA_EXCEEDED)', hint: 'wait until tomorrow' });
    expect(report(unknown).exit).toBe(1);

    const other = join(tempDir(), 'other.sock');
    const stranger = createServer((_req, res) => res.writeHead(502).end('<html>bad gateway</html>'));
    await new Promise<void>((resolve) => stranger.listen(other, resolve));
    cleanups.push(() => new Promise<void>((resolve) => stranger.close(() => resolve())));
    const notJson = await callApi(other, 'GET', '/api/v1/status').catch((caught: unknown) => caught);
    expect(notJson).toMatchObject({ code: 'API_ERROR', message: `what answers at ${other} is not Paasmaker's API: HTTP 502 with something that is not JSON` });
    expect(report(notJson).exit).toBe(1);
  });
});

describe('a platform that cannot be reached', () => {
  const unreachable = { code: 'PLATFORM_UNREACHABLE', hint: expect.stringContaining('paasmaker daemon start') };

  it('no socket file: PLATFORM_UNREACHABLE, exit 1, with how to start one', async () => {
    const error = await callApi(join(tempDir(), 'paasmaker.sock'), 'GET', '/api/v1/status').catch((caught: unknown) => caught);
    expect(error).toMatchObject({ ...unreachable, message: expect.stringContaining('ENOENT') });
    const printed = report(error);
    expect(printed.exit).toBe(1);
    expect(printed.text).toMatch(/hint: start one with: paasmaker daemon start \(or run paasmaker up in the project\)/);
  });

  it('a socket left by a process killed with kill -9: nothing answers, PLATFORM_UNREACHABLE, not APP_NOT_FOUND', async () => {
    const socket = join(tempDir(), 'paasmaker.sock');
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socket)}, () => console.log('listening'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    await new Promise((resolve) => child.stdout.once('data', resolve));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    expect(existsSync(socket)).toBe(true);
    const error = await callApi(socket, 'GET', '/api/v1/status').catch((caught: unknown) => caught);
    expect(error, (error as Error).message).toMatchObject({ ...unreachable, message: expect.stringContaining('ECONNREFUSED') });
    expect(report(error).exit).toBe(1);
  });

  it('a socket where something listens but never answers: PLATFORM_UNREACHABLE after the timeout', async () => {
    const socket = join(tempDir(), 'paasmaker.sock');
    const server = createServer(() => undefined);
    cleanups.push((await listenOnSocket(server, socket)).close);
    const error = await callApi(socket, 'GET', '/api/v1/status', undefined, 300).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ ...unreachable, message: expect.stringContaining('no answer in 0.3 s') });
  });
});
