import { createReadStream, type Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';

/** Enough types for a site; everything else is a download. */
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.svg': 'image/svg+xml; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
  '.pdf': 'application/pdf',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.mp3': 'audio/mpeg',
};

export function contentType(file: string): string {
  return TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

/** The path part of a request target (origin-form, or absolute-form from a proxy), still encoded. */
function rawPathname(url: string): string {
  const withoutOrigin = url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '');
  return withoutOrigin.split(/[?#]/, 1)[0]!;
}

/**
 * The decoded request path, or undefined when it can never name a file we
 * serve: malformed escapes, NUL, backslashes, `..` (encoded or not), and dot
 * files (`.env`, `.git/`), since a site's root is often the project folder.
 * `.well-known` stays reachable.
 */
function decodePath(pathname: string): string | undefined {
  if (!pathname.startsWith('/')) return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const hidden = decoded.split('/').some((segment) => segment.startsWith('.') && segment !== '.well-known');
  return hidden ? undefined : decoded;
}

function inside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** Stats a path after resolving symlinks, provided the real path is still inside root. */
async function statInside(realRoot: string, path: string): Promise<{ file: string; stats: Stats } | undefined> {
  try {
    const real = await realpath(path);
    return inside(realRoot, real) ? { file: real, stats: await stat(real) } : undefined;
  } catch {
    return undefined;
  }
}

type Located = { kind: 'file'; file: string; stats: Stats } | { kind: 'folder' } | { kind: 'missing' };

async function locate(root: string, path: string): Promise<Located> {
  let realRoot: string;
  try {
    realRoot = await realpath(root);
  } catch {
    return { kind: 'missing' };
  }
  const target = resolve(realRoot, `.${path}`);
  if (!inside(realRoot, target)) return { kind: 'missing' };
  const found = await statInside(realRoot, target);
  if (found?.stats.isFile()) return { kind: 'file', ...found };
  if (!found?.stats.isDirectory()) return { kind: 'missing' };
  if (!path.endsWith('/')) return { kind: 'folder' };
  const index = await statInside(realRoot, join(found.file, 'index.html'));
  return index?.stats.isFile() ? { kind: 'file', ...index } : { kind: 'missing' };
}

/** Parses a single `bytes=` range: the span, 'unsatisfiable', or undefined to ignore the header. */
function byteRange(header: string, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const last = match[2] === '' ? Infinity : Number(match[2]);
  if (last < start) return undefined; // an invalid spec: serve the whole file
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(last, size - 1) };
}

function notModified(req: IncomingMessage, etag: string, mtimeMs: number): boolean {
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    // Weak comparison: W/"x" and "x" name the same version.
    const bare = etag.replace(/^W\//, '');
    return ifNoneMatch.split(',').some((tag) => tag.trim() === '*' || tag.trim().replace(/^W\//, '') === bare);
  }
  const since = Date.parse(req.headers['if-modified-since'] ?? '');
  return !Number.isNaN(since) && Math.floor(mtimeMs / 1000) * 1000 <= since;
}

/**
 * Serves a file from root: GET and HEAD, index.html for folders, content
 * types, weak ETag and Last-Modified with 304s, single byte ranges, streamed.
 * Never serves anything outside root, symlinks included.
 */
export async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    plain(res, 405, '405 Method Not Allowed\n', { allow: 'GET, HEAD' });
    return;
  }
  const url = req.url ?? '/';
  const pathname = rawPathname(url);
  const path = decodePath(pathname);
  const found: Located = path === undefined ? { kind: 'missing' } : await locate(root, path);
  if (found.kind === 'folder') {
    const query = url.includes('?') ? url.slice(url.indexOf('?')) : '';
    // Collapsing leading slashes keeps `//evil.example/` from becoming an off-site redirect.
    res.writeHead(301, { location: `/${pathname.replace(/^\/+/, '')}/${query}`, 'content-length': 0, 'cache-control': 'no-cache' });
    res.end();
    return;
  }
  if (found.kind === 'missing') {
    plain(res, 404, '404 Not Found\n');
    return;
  }
  const { file, stats } = found;
  const etag = `W/"${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`;
  const lastModified = stats.mtime.toUTCString();
  const headers: Record<string, string | number> = {
    'content-type': contentType(file),
    etag,
    'last-modified': lastModified,
    'cache-control': 'no-cache',
    'accept-ranges': 'bytes',
    'x-content-type-options': 'nosniff',
  };
  if (notModified(req, etag, stats.mtimeMs)) {
    res.writeHead(304, { etag, 'last-modified': lastModified, 'cache-control': 'no-cache' });
    res.end();
    return;
  }
  let start = 0;
  let end = stats.size - 1;
  let status = 200;
  const ifRange = req.headers['if-range'];
  const rangeHeader = req.headers.range;
  if (rangeHeader && (ifRange === undefined || ifRange === etag || ifRange === lastModified)) {
    const range = byteRange(rangeHeader, stats.size);
    if (range === 'unsatisfiable') {
      plain(res, 416, '416 Range Not Satisfiable\n', { 'content-range': `bytes */${stats.size}` });
      return;
    }
    if (range) {
      ({ start, end } = range);
      status = 206;
      headers['content-range'] = `bytes ${start}-${end}/${stats.size}`;
    }
  }
  headers['content-length'] = stats.size === 0 ? 0 : end - start + 1;
  res.writeHead(status, headers);
  if (req.method === 'HEAD' || stats.size === 0) {
    res.end();
    return;
  }
  // pipeline closes the file when the client goes away mid-download.
  await pipeline(createReadStream(file, { start, end }), res).catch(() => res.destroy());
}

/**
 * A server for one static folder. Its close() also drops open connections,
 * so a stalled download never keeps shutdown (or a test) waiting.
 */
export function startStaticServer(root: string, port: number, host = '127.0.0.1'): Promise<Server> {
  const server = createServer((req, res) => {
    serveStatic(root, req, res).catch(() => {
      if (!res.headersSent) plain(res, 500, '500 Internal Server Error\n');
      else res.destroy();
    });
  });
  const close = server.close.bind(server);
  server.close = (callback?: (error?: Error) => void) => {
    close(callback);
    server.closeAllConnections();
    return server;
  };
  return new Promise((resolveServer, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      // A failed accept (out of descriptors) is the listener's trouble, not the platform's.
      server.on('error', (error: NodeJS.ErrnoException) => process.stderr.write(`${new Date().toISOString()} static server on ${port}: ${error.code ?? error.message}\n`));
      resolveServer(server);
    });
  });
}

/** Stops a static instance's server, closing its open connections. */
export function stopStaticServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
