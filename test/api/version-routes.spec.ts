import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postFile } from '../../src/api/client.js';
import { receiveUpload } from '../../src/api/upload-body.js';
import { isPaasmakerError, PaasmakerError } from '../../src/shared/errors.js';
import { tcpRequest, userToken } from '../helpers/auth.js';
import { apiRequest, runCli, stopDaemonAndRemove, tempHome } from '../helpers/cli.js';
import { listenOnSocket } from '../helpers/servers.js';

// The versions API: who may read and change versions, and a deploy's
// archive upload (streamed to a file, refused when too large or of another
// kind before anything is written).

let home: string;
let project: string;
let port: number;
let socket: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const temp = tempHome();
  home = temp.home;
  socket = join(home, 'paasmaker.sock');
  project = mkdtempSync(join(tmpdir(), 'pm-versions-'));
  writeFileSync(join(project, 'paasmaker.yml'), ['application:', '  name: shelf', 'instances:', '  web:', `    command: node -e "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT, '127.0.0.1')"`, ''].join('\n'));
  cleanup = async () => {
    await stopDaemonAndRemove(home, temp.cleanup);
    rmSync(project, { recursive: true, force: true });
  };
  const started = await runCli(['daemon', 'start', '--api-port', '0'], { home });
  expect(started.exitCode, started.stderr).toBe(0);
  port = (JSON.parse((await runCli(['daemon', 'status', '--json'], { home })).stdout) as { apiPort: number }).apiPort;
  const up = await runCli(['up', '-d', project], { home });
  expect(up.exitCode, up.stderr).toBe(0);
}, 120_000);

afterAll(async () => cleanup?.());

/** A raw POST over the socket: a body of a Content-Type, and a Content-Length that may claim more than is sent. */
function rawPost(path: string, type: string, body: Buffer, length = body.length): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path, method: 'POST', headers: { host: 'localhost', 'content-type': type, 'content-length': String(length) } }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode!, json: JSON.parse(text) });
      });
    });
    // A client still sending when the refusal comes may see its socket close: the answer is what counts.
    req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
    req.write(body);
    if (length === body.length) req.end();
  });
}

const uploads = () => (existsSync(join(home, 'tmp')) ? readdirSync(join(home, 'tmp')).filter((name) => name.startsWith('upload-')) : []);

describe('the versions API', () => {
  it("refuses a user's deploy from a path on the platform's machine (its own rights would read it), whatever their role", async () => {
    const admin = await userToken(home, 'ad', 'admin');
    for (const source of [project, `file://${project}`]) {
      const answer = await tcpRequest(port, 'POST', '/api/v1/deploys', { token: admin, body: { source } });
      expect({ source, status: answer.status, code: answer.json?.code, text: answer.text }).toEqual({ source, status: 403, code: 'FORBIDDEN', text: expect.stringMatching(/for its owner/) });
    }
  });

  it('lets a viewer list versions, and refuses them every change with 403', async () => {
    const viewer = await userToken(home, 'vi', 'viewer');
    const list = await tcpRequest(port, 'GET', '/api/v1/apps/shelf/versions', { token: viewer });
    expect(list.status, list.text).toBe(200);
    expect(Array.isArray(list.json)).toBe(true);
    for (const [path, body] of [
      ['/api/v1/deploys', { source: project }],
      ['/api/v1/apps/shelf/switch', { version: 1 }],
      ['/api/v1/apps/shelf/rollback', {}],
      ['/api/v1/apps/shelf/versions/prune', { keep: 1 }],
      ['/api/v1/apps/shelf/versions/1/start', {}],
      ['/api/v1/apps/shelf/versions/1/stop', {}],
    ] as const) {
      const answer = await tcpRequest(port, 'POST', path, { token: viewer, body });
      expect({ path, status: answer.status, code: answer.json?.code }).toEqual({ path, status: 403, code: 'FORBIDDEN' });
    }
    // An upload is refused before its body is read.
    const upload = await tcpRequest(port, 'POST', '/api/v1/deploys?app=shelf', { token: viewer, headers: { 'content-type': 'application/gzip' } });
    expect(upload.json).toMatchObject({ code: 'FORBIDDEN' });
    // An app no one has run: 404, as every app route.
    expect((await apiRequest(socket, 'GET', '/api/v1/apps/nosuch/versions')).json).toMatchObject({ code: 'APP_NOT_FOUND' });
  });

  it('refuses an upload over 2 GiB with 413 and one of another Content-Type with 415, writing nothing', async () => {
    const tooLarge = await rawPost('/api/v1/deploys?app=shelf', 'application/gzip', Buffer.alloc(1024), 3 * 1024 ** 3);
    expect(tooLarge).toMatchObject({ status: 413, json: { code: 'BODY_TOO_LARGE' } });
    const text = await rawPost('/api/v1/deploys?app=shelf', 'text/plain', Buffer.from('hello'));
    expect(text).toMatchObject({ status: 415, json: { code: 'UNSUPPORTED_MEDIA_TYPE', hint: expect.stringContaining('application/gzip') } });
    // A JSON request is read as the JSON route it is; an upload's query is not taken with it.
    expect((await apiRequest(socket, 'POST', '/api/v1/deploys', { body: { source: 'relative/path' } })).json).toMatchObject({ code: 'INVALID_REQUEST' });
    expect((await apiRequest(socket, 'POST', '/api/v1/deploys?app=shelf', { body: { source: project } })).json).toMatchObject({ code: 'INVALID_REQUEST' });
    // An upload's query is checked as any query.
    expect((await rawPost('/api/v1/deploys?nosuch=1', 'application/gzip', gzipSync('x'))).json).toMatchObject({ code: 'INVALID_REQUEST' });
    expect(uploads()).toEqual([]);
    // An archive that is taken reaches the deploy, which refuses it (it is no archive); its file is removed either way.
    const garbage = await rawPost('/api/v1/deploys?app=shelf&name=garbage.tar.gz', 'application/gzip', gzipSync('not a tar'));
    expect(garbage.status, JSON.stringify(garbage.json)).toBeGreaterThanOrEqual(400);
    expect(uploads()).toEqual([]);
  });

  it('lists the version routes in openapi.json, the deploy taking JSON or an archive', async () => {
    const document = (await apiRequest(socket, 'GET', '/api/v1/openapi.json')).json as { paths: Record<string, Record<string, any>> };
    for (const [path, method] of [
      ['/api/v1/apps/{app}/versions', 'get'],
      ['/api/v1/deploys', 'post'],
      ['/api/v1/apps/{app}/switch', 'post'],
      ['/api/v1/apps/{app}/rollback', 'post'],
      ['/api/v1/apps/{app}/versions/prune', 'post'],
      ['/api/v1/apps/{app}/versions/{version}/start', 'post'],
      ['/api/v1/apps/{app}/versions/{version}/stop', 'post'],
    ] as const) {
      expect(document.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
    const deploy = document.paths['/api/v1/deploys']!.post;
    expect(deploy['x-permission']).toBe('APPLICATION_DEPLOY');
    expect(Object.keys(deploy.requestBody.content)).toEqual(['application/json', 'application/gzip', 'application/x-gzip', 'application/x-tar', 'application/zip']);
    expect(deploy.parameters.map((parameter: { name: string }) => parameter.name)).toEqual(expect.arrayContaining(['app', 'commit', 'message', 'switch']));
    expect(document.paths['/api/v1/apps/{app}/versions']!.get['x-permission']).toBe('WORKSPACE_VIEW');
  });
});

describe('an upload', () => {
  it('is streamed to a private file, and one over the limit is refused while it is sent; the client reads the refusal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-upload-'));
    const received: Array<{ size: number; mode: number }> = [];
    const server = createServer((req, res) => {
      receiveUpload(req, { types: ['application/gzip'], limit: 64 * 1024, description: 'test' }, join(dir, 'tmp'))
        .then(async (upload) => {
          const { statSync } = await import('node:fs');
          received.push({ size: upload.size, mode: statSync(upload.file).mode & 0o777 });
          res.end(JSON.stringify({ size: upload.size }));
        })
        .catch((error: PaasmakerError) => {
          res.writeHead(413, { 'content-type': 'application/json' }).end(JSON.stringify({ error: error.message, code: error.code }));
        });
    });
    const listening = await listenOnSocket(server, join(dir, 'api.sock'));
    try {
      const small = join(dir, 'small.tar.gz');
      writeFileSync(small, Buffer.alloc(10_000, 7));
      expect(await postFile(join(dir, 'api.sock'), '/', small, 'application/gzip')).toEqual({ size: 10_000 });
      expect(received).toEqual([{ size: 10_000, mode: 0o600 }]);
      const large = join(dir, 'large.tar.gz');
      writeFileSync(large, Buffer.alloc(8 * 1024 * 1024, 7));
      const refused = await postFile(join(dir, 'api.sock'), '/', large, 'application/gzip').catch((error: unknown) => error);
      expect(isPaasmakerError(refused) && refused.code).toBe('BODY_TOO_LARGE');
      // Only the file that was taken is there: the refused one was removed.
      expect(readdirSync(join(dir, 'tmp'))).toHaveLength(1);
    } finally {
      await listening.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
