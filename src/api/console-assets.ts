import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The web console's files, built by scripts/build-console.mjs into
 * dist/console/ (beside dist/src/, where this module runs from). The page is
 * a client of /api/v1 like every other face: nothing here knows a secret, so
 * serving it needs no user; the API it calls does.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'console');

/** No inline script or style, nothing from another origin, no framing: a stolen page can do nothing a signed-in user could not. */
export const CONSOLE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** A built file: hashed names (name-HASH.js) never change, so browsers keep them for good. */
interface Asset {
  body: Buffer;
  type: string;
  immutable: boolean;
}

/** Read once, on the first request: the set of files is fixed at build time, and only those are ever served (no path reaches outside). */
let assets: Map<string, Asset> | undefined;

function walk(dir: string, into: Map<string, Asset>): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, into);
    else {
      const url = `/${relative(ROOT, path).split(sep).join('/')}`;
      into.set(url, { body: readFileSync(path), type: TYPES[extname(path)] ?? 'application/octet-stream', immutable: /-[A-Z0-9]{8,}\.[a-z0-9]+$/i.test(entry.name) });
    }
  }
}

function loaded(): Map<string, Asset> {
  if (!assets) {
    assets = new Map();
    if (existsSync(ROOT)) walk(ROOT, assets);
  }
  return assets;
}

/** Headers every console answer carries. */
function securityHeaders(type: string): Record<string, string> {
  return { 'content-type': type, 'content-security-policy': CONSOLE_CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY', 'cross-origin-opener-policy': 'same-origin' };
}

/**
 * Answers a GET (or HEAD) outside /api/: the file, or index.html for any
 * other path (the page routes itself: /apps/shop reloads into the app page).
 */
export function serveConsole(req: IncomingMessage, res: ServerResponse, pathname: string): void {
  const files = loaded();
  const asset = files.get(pathname);
  const page = asset ?? (extname(pathname) === '' || pathname.endsWith('.html') ? files.get('/index.html') : undefined);
  if (!page) {
    const text = files.size === 0 ? 'The web console is not built: run npm run build (scripts/build-console.mjs).\n' : `Not found: ${pathname}\n`;
    res.writeHead(404, { ...securityHeaders('text/plain; charset=utf-8'), 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) }).end(req.method === 'HEAD' ? undefined : text);
    return;
  }
  const caching = page.immutable ? 'public, max-age=31536000, immutable' : 'no-store';
  res.writeHead(200, { ...securityHeaders(page.type), 'cache-control': caching, 'content-length': page.body.length });
  res.end(req.method === 'HEAD' ? undefined : page.body);
}
