// A visit counter on node:http and Redis, with no npm dependencies: redis.js speaks the protocol.
// Redis comes from $REDIS_URL (or $CACHE_URL); Paasmaker chooses the port and passes it in $PORT.
import { createServer } from 'node:http';
import { connect } from './redis.js';

const port = Number(process.env.PORT ?? 3000);
// Paasmaker gives HOST=127.0.0.1 (its router reaches apps on loopback only); a container export gives 0.0.0.0.
const host = process.env.HOST || '127.0.0.1';
const url = process.env.REDIS_URL || process.env.CACHE_URL;
if (!url) {
  console.error('counter-redis: REDIS_URL (or CACHE_URL) is not set (expected redis://[user:password@]host:port/db)');
  process.exit(1);
}

let redis;
try {
  redis = await connect(url);
} catch (error) {
  console.error(`counter-redis: cannot connect to Redis: ${error.message}`);
  process.exit(1);
}

let stopping = false;
// The client does not reconnect; exiting lets Paasmaker restart the app, which connects afresh.
redis.closed.then((error) => {
  if (stopping) return;
  console.error(`counter-redis: lost the Redis connection: ${error.message}`);
  process.exit(1);
});

const wantsHtml = (req) => (req.headers.accept ?? '').includes('text/html');

const page = (visits) => `<!doctype html>
<html><head><meta charset="utf-8"><title>Counter</title></head>
<body>
<h1>This page has been seen ${visits} ${visits === 1 ? 'time' : 'times'}</h1>
<form method="post" action="/reset"><button>Reset</button></form>
<p><a href="/count">count</a></p>
</body></html>
`;

function send(res, status, body, type) {
  res.writeHead(status, { 'content-type': `${type}; charset=utf-8` }).end(body);
}

async function handle(req, res) {
  const { pathname } = new URL(req.url, 'http://localhost');
  // Exact paths only, so a browser's /favicon.ico doesn't count as a visit.
  if (req.method === 'GET' && pathname === '/') {
    const visits = await redis.command('INCR', 'visits');
    if (wantsHtml(req)) return send(res, 200, page(visits), 'text/html');
    return send(res, 200, `This page has been seen ${visits} ${visits === 1 ? 'time' : 'times'}\n`, 'text/plain');
  }
  if (req.method === 'GET' && pathname === '/count') {
    const visits = Number((await redis.command('GET', 'visits')) ?? 0); // never set: null
    return send(res, 200, `${JSON.stringify({ visits })}\n`, 'application/json');
  }
  if (req.method === 'POST' && pathname === '/reset') {
    await redis.command('SET', 'visits', 0);
    // A browser's form goes back to the page (which counts that visit); others get the new count.
    if (wantsHtml(req)) return res.writeHead(303, { location: '/' }).end();
    return send(res, 200, `${JSON.stringify({ visits: 0 })}\n`, 'application/json');
  }
  send(res, 404, 'not found\n', 'text/plain');
}

const server = createServer((req, res) => {
  handle(req, res).catch((error) => {
    console.error(`${req.method} ${req.url} failed: ${error.message}`);
    if (!res.headersSent) send(res, 500, 'internal error\n', 'text/plain');
    else res.destroy();
  });
});

server.listen(port, host, () => console.log(`listening on http://${host}:${port}/`));

// Finish in-flight requests on SIGTERM, then say goodbye to Redis.
process.on('SIGTERM', () => {
  stopping = true;
  server.close(() => redis.quit().finally(() => process.exit(0)));
});
