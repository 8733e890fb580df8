import { createReadStream, type Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.svg': 'image/svg+xml',
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
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * Resolves a request path inside root, or undefined when it would leave it
 * (`..`, encoded or not, backslashes, NUL, or a symlink pointing outside).
 */
async function locate(root: string, rawPath: string): Promise<{ file: string; stats: Stats } | 'redirect' | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath.split('?')[0]!.split('#')[0]!);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const segments = decoded.split('/');
  if (segments.some((segment) => segment === '..')) return undefined;
  const realRoot = await realpath(root);
  let file = resolve(realRoot, '.' + decoded);
  if (file !== realRoot && !file.startsWith(realRoot + sep)) return undefined;
  let stats: Stats;
  try {
    const real = await realpath(file);
    if (real !== realRoot && !real.startsWith(realRoot + sep)) return undefined;
    stats = await stat(real);
    file = real;
  } catch {
    return undefined;
  }
  if (stats.isDirectory()) {
    if (!decoded.endsWith('/')) return 'redirect';
    return locate(root, `${decoded}index.html`);
  }
  return stats.isFile() ? { file, stats } : undefined;
}

/** Serves a file from root: GET/HEAD, index.html, content types, ETag/Last-Modified, single ranges. */
export async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    plain(res, 405, 'Method Not Allowed\n', { allow: 'GET, HEAD' });
    return;
  }
  const path = req.url ?? '/';
  const found = await locate(root, path);
  if (found === 'redirect') {
    const [pathname, query] = path.split('?', 2) as [string, string | undefined];
    res.writeHead(301, { location: `${pathname}/${query ? `?${query}` : ''}`, 'content-length': 0 });
    res.end();
    return;
  }
  if (!found) {
    plain(res, 404, 'Not Found\n');
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
  };
  const ifNoneMatch = req.headers['if-none-match'];
  const ifModifiedSince = req.headers['if-modified-since'];
  const notModified = ifNoneMatch
    ? ifNoneMatch.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*')
    : ifModifiedSince !== undefined && Math.floor(stats.mtimeMs / 1000) <= Math.floor(Date.parse(ifModifiedSince) / 1000);
  if (notModified) {
    res.writeHead(304, { etag, 'last-modified': lastModified, 'cache-control': 'no-cache' });
    res.end();
    return;
  }
  let start = 0;
  let end = stats.size - 1;
  let status = 200;
  const range = req.headers.range;
  if (range && (!req.headers['if-range'] || req.headers['if-range'] === etag)) {
    const match = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
    if (match && (match[1] || match[2])) {
      if (match[1]) {
        start = Number(match[1]);
        end = match[2] ? Math.min(Number(match[2]), stats.size - 1) : stats.size - 1;
      } else {
        start = Math.max(0, stats.size - Number(match[2]));
      }
      if (start > end || start >= stats.size) {
        plain(res, 416, 'Range Not Satisfiable\n', { 'content-range': `bytes */${stats.size}` });
        return;
      }
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
  const stream = createReadStream(file, { start, end });
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

/** A server for one static folder on a loopback port. */
export function startStaticServer(root: string, port: number, host = '127.0.0.1'): Promise<Server> {
  const server = createServer((req, res) => {
    serveStatic(root, req, res).catch(() => {
      if (!res.headersSent) plain(res, 500, 'Internal Server Error\n');
      else res.destroy();
    });
  });
  return new Promise((resolveServer, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolveServer(server));
  });
}

