import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStaticServer } from '../../src/proxy/static-files.js';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

let dir: string;
let root: string;
let server: Server;
let port: number;

/** A request with the path sent exactly as given: fetch would normalise `..` away. */
function get(path: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const files: Record<string, string> = {
  'index.html': '<h1>home</h1>',
  'style.css': 'body{}',
  'app.js': 'console.log(1)',
  'mod.mjs': 'export {}',
  'data.json': '{}',
  'logo.svg': '<svg/>',
  'pixel.png': 'png',
  'photo.jpg': 'jpg',
  'anim.gif': 'gif',
  'pic.webp': 'webp',
  'favicon.ico': 'ico',
  'font.woff': 'woff',
  'font.woff2': 'woff2',
  'notes.txt': 'notes',
  'module.wasm': 'wasm',
  'app.js.map': '{}',
  'feed.xml': '<feed/>',
  'paper.pdf': 'pdf',
  'blob.bin': 'bin',
  'digits.txt': '0123456789',
  'empty.txt': '',
  'docs/index.html': '<h1>docs</h1>',
  'docs/guide.html': 'guide',
  'bare/readme.txt': 'no index here',
  'with space/ünï.txt': 'encoded',
  '.env': 'SECRET=1',
  '.well-known/security.txt': 'contact',
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pm-static-'));
  root = join(dir, 'site');
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), content);
  }
  writeFileSync(join(dir, 'secret.txt'), 'outside the root');
  writeFileSync(join(dir, 'passwd'), 'outside the root');
  symlinkSync(join(dir, 'secret.txt'), join(root, 'leak.txt'));
  symlinkSync(dir, join(root, 'leakdir'));
  symlinkSync(join(root, 'notes.txt'), join(root, 'alias.txt'));
  utimesSync(join(root, 'digits.txt'), new Date('2024-01-02T03:04:05Z'), new Date('2024-01-02T03:04:05Z'));
  server = await startStaticServer(root, 0);
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe('serving files', () => {
  it.each([
    ['/index.html', 'text/html; charset=utf-8'],
    ['/style.css', 'text/css; charset=utf-8'],
    ['/app.js', 'text/javascript; charset=utf-8'],
    ['/mod.mjs', 'text/javascript; charset=utf-8'],
    ['/data.json', 'application/json; charset=utf-8'],
    ['/logo.svg', 'image/svg+xml; charset=utf-8'],
    ['/pixel.png', 'image/png'],
    ['/photo.jpg', 'image/jpeg'],
    ['/anim.gif', 'image/gif'],
    ['/pic.webp', 'image/webp'],
    ['/favicon.ico', 'image/x-icon'],
    ['/font.woff', 'font/woff'],
    ['/font.woff2', 'font/woff2'],
    ['/notes.txt', 'text/plain; charset=utf-8'],
    ['/module.wasm', 'application/wasm'],
    ['/app.js.map', 'application/json; charset=utf-8'],
    ['/feed.xml', 'application/xml; charset=utf-8'],
    ['/paper.pdf', 'application/pdf'],
    ['/blob.bin', 'application/octet-stream'],
  ])('%s is %s', async (path, type) => {
    const reply = await get(path);
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe(type);
    expect(reply.body.toString()).toBe(files[path.slice(1)]);
    expect(reply.headers['cache-control']).toBe('no-cache');
  });

  it('serves index.html for / and for folders, redirecting /dir to /dir/', async () => {
    expect((await get('/')).body.toString()).toBe('<h1>home</h1>');
    expect((await get('/docs/')).body.toString()).toBe('<h1>docs</h1>');
    const redirect = await get('/docs?tab=1');
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe('/docs/?tab=1');
    expect((await get('/bare/')).status).toBe(404);
  });

  it('never redirects off-site', async () => {
    const reply = await get('//docs');
    expect(reply.status).toBe(301);
    expect(reply.headers.location).toBe('/docs/');
  });

  it('decodes paths and ignores query strings', async () => {
    expect((await get('/with%20space/%C3%BCn%C3%AF.txt?x=1')).body.toString()).toBe('encoded');
    expect((await get('/alias.txt')).body.toString()).toBe('notes');
  });

  it('answers HEAD with headers only', async () => {
    const reply = await get('/digits.txt', { method: 'HEAD' });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-length']).toBe('10');
    expect(reply.body.length).toBe(0);
  });

  it('refuses other methods with 405 and Allow', async () => {
    const reply = await get('/index.html', { method: 'POST' });
    expect(reply.status).toBe(405);
    expect(reply.headers.allow).toBe('GET, HEAD');
  });

  it('serves an empty file', async () => {
    const reply = await get('/empty.txt');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-length']).toBe('0');
  });

  it('gives a small plain 404', async () => {
    const reply = await get('/nope.html');
    expect(reply.status).toBe(404);
    expect(reply.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(reply.body.toString()).toBe('404 Not Found\n');
  });
});

describe('caching', () => {
  it('sends a weak ETag and Last-Modified, and 304s on either', async () => {
    const first = await get('/digits.txt');
    const etag = first.headers.etag!;
    expect(etag).toMatch(/^W\/"[0-9a-f]+-[0-9a-f]+"$/);
    expect(first.headers['last-modified']).toBe('Tue, 02 Jan 2024 03:04:05 GMT');
    const byTag = await get('/digits.txt', { headers: { 'if-none-match': `"other", ${etag}` } });
    expect(byTag.status).toBe(304);
    expect(byTag.body.length).toBe(0);
    expect((await get('/digits.txt', { headers: { 'if-none-match': '"other"' } })).status).toBe(200);
    expect((await get('/digits.txt', { headers: { 'if-modified-since': 'Tue, 02 Jan 2024 03:04:05 GMT' } })).status).toBe(304);
    expect((await get('/digits.txt', { headers: { 'if-modified-since': 'Mon, 01 Jan 2024 00:00:00 GMT' } })).status).toBe(200);
    // If-None-Match wins over If-Modified-Since.
    const both = await get('/digits.txt', { headers: { 'if-none-match': '"other"', 'if-modified-since': 'Tue, 02 Jan 2024 03:04:05 GMT' } });
    expect(both.status).toBe(200);
  });
});

describe('ranges', () => {
  it.each([
    ['bytes=2-5', 'bytes 2-5/10', '2345'],
    ['bytes=7-', 'bytes 7-9/10', '789'],
    ['bytes=-3', 'bytes 7-9/10', '789'],
    ['bytes=8-100', 'bytes 8-9/10', '89'],
  ])('%s gives 206 %s', async (range, contentRange, body) => {
    const reply = await get('/digits.txt', { headers: { range } });
    expect(reply.status).toBe(206);
    expect(reply.headers['content-range']).toBe(contentRange);
    expect(reply.headers['content-length']).toBe(String(body.length));
    expect(reply.body.toString()).toBe(body);
  });

  it('gives 416 when the range starts past the end', async () => {
    const reply = await get('/digits.txt', { headers: { range: 'bytes=10-' } });
    expect(reply.status).toBe(416);
    expect(reply.headers['content-range']).toBe('bytes */10');
  });

  it('serves the whole file for multiple, malformed or stale ranges', async () => {
    for (const range of ['bytes=0-1,4-5', 'bytes=5-2', 'items=0-1']) {
      const reply = await get('/digits.txt', { headers: { range } });
      expect(reply.status, range).toBe(200);
      expect(reply.body.toString()).toBe('0123456789');
    }
    const stale = await get('/digits.txt', { headers: { range: 'bytes=0-1', 'if-range': 'W/"stale"' } });
    expect(stale.status).toBe(200);
  });
});

describe('staying inside the root', () => {
  it.each([
    '/../secret.txt',
    '/..%2fsecret.txt',
    '/..%2f..%2fetc/passwd',
    '/..%2fpasswd',
    '/%2e%2e/secret.txt',
    '/%2e%2e%2fsecret.txt',
    '/%2E%2E/%2E%2E/etc/passwd',
    '/docs/../../secret.txt',
    '/..\\secret.txt',
    '/..%5csecret.txt',
    '/%5c..%5csecret.txt',
    '/index.html%00.txt',
    '/%00',
    '/leak.txt',
    '/leakdir/secret.txt',
    '/leakdir/',
    '/.env',
    '/%2eenv',
    '/docs/%2e%2e/%2e%2e/passwd',
    '/%',
    '/%zz',
  ])('%s is refused', async (path) => {
    const reply = await get(path);
    expect([403, 404]).toContain(reply.status);
    expect(reply.body.toString()).not.toContain('outside the root');
    expect(reply.body.toString()).not.toContain('SECRET');
  });

  it('still serves .well-known', async () => {
    expect((await get('/.well-known/security.txt')).body.toString()).toBe('contact');
  });
});
