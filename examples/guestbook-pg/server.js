// A guestbook on node:http and PostgreSQL (the `pg` package, installed by prepare).
// The database comes from $DATABASE_URL; Paasmaker chooses the port and passes it in $PORT.
import { createServer } from 'node:http';
import pg from 'pg';

const port = Number(process.env.PORT ?? 3000);
// Paasmaker gives HOST=127.0.0.1 (its router reaches apps on loopback only); a container export gives 0.0.0.0.
const host = process.env.HOST || '127.0.0.1';
const MAX_BODY = 64 * 1024; // bytes

if (!process.env.DATABASE_URL) {
  console.error('guestbook-pg: DATABASE_URL is not set (expected postgres://user:password@host:port/database)');
  process.exit(1);
}

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
// An idle connection that breaks (say, the server restarts) emits 'error' on the
// pool; without a listener that would crash the app. The pool replaces it.
pool.on('error', (error) => console.error(`guestbook-pg: idle database connection failed: ${error.message}`));

try {
  await pool.query(`CREATE TABLE IF NOT EXISTS entries (
    id serial PRIMARY KEY,
    name text NOT NULL,
    message text NOT NULL,
    created timestamptz NOT NULL DEFAULT now()
  )`);
} catch (error) {
  console.error(`guestbook-pg: cannot prepare the database: ${error.message}`);
  process.exit(1);
}

const listEntries = async () =>
  (await pool.query('SELECT id, name, message, created FROM entries ORDER BY id DESC')).rows;

const escape = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const page = (entries) => `<!doctype html>
<html><head><meta charset="utf-8"><title>Guestbook</title></head>
<body>
<h1>Guestbook</h1>
<form method="post" action="/entries">
  <input name="name" placeholder="Your name" required><br>
  <textarea name="message" rows="3" cols="50" placeholder="Your message" required></textarea><br>
  <button>Sign</button>
</form>
<ul>
${entries.map((e) => `<li><strong>${escape(e.name)}</strong>: ${escape(e.message)} <small>${e.created.toISOString()}</small></li>`).join('\n') || '<li><em>No entries yet.</em></li>'}
</ul>
<p><a href="/entries.json">entries.json</a></p>
</body></html>
`;

function send(res, status, body, type) {
  res.writeHead(status, { 'content-type': `${type}; charset=utf-8` }).end(body);
}
const sendJson = (res, status, value) => send(res, status, `${JSON.stringify(value)}\n`, 'application/json');

/** The request body as text, or undefined when it is larger than MAX_BODY. */
async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function addEntry(req, res) {
  const isJson = (req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json');
  const fail = (status, error) => (isJson ? sendJson(res, status, { error }) : send(res, status, `${error}\n`, 'text/plain'));
  const raw = await readBody(req);
  if (raw === undefined) return fail(413, 'request body too large');
  let fields;
  if (isJson) {
    try {
      fields = JSON.parse(raw);
    } catch {
      return fail(400, 'invalid JSON');
    }
    if (typeof fields !== 'object' || fields === null) return fail(400, 'expected a JSON object with name and message');
  } else {
    fields = Object.fromEntries(new URLSearchParams(raw));
  }
  const name = typeof fields.name === 'string' ? fields.name.trim() : '';
  const message = typeof fields.message === 'string' ? fields.message.trim() : '';
  if (!name || !message) return fail(400, 'name and message must not be empty');

  // Parameterised: the values travel separately from the SQL, never spliced into it.
  const { rows } = await pool.query(
    'INSERT INTO entries (name, message) VALUES ($1, $2) RETURNING id, name, message, created',
    [name, message],
  );
  if (isJson) return sendJson(res, 201, rows[0]);
  // 303 makes the browser follow with a GET, so a reload doesn't post twice.
  res.writeHead(303, { location: '/' }).end();
}

async function handle(req, res) {
  const { pathname } = new URL(req.url, 'http://localhost');
  if (req.method === 'GET' && pathname === '/') {
    const entries = await listEntries();
    if ((req.headers.accept ?? '').includes('text/html')) return send(res, 200, page(entries), 'text/html');
    const lines = entries.map((e) => `${e.id}\t${e.created.toISOString()}\t${e.name}: ${e.message}\n`).join('');
    return send(res, 200, lines || 'no entries yet\n', 'text/plain');
  }
  if (req.method === 'GET' && pathname === '/entries.json') return sendJson(res, 200, await listEntries());
  if (req.method === 'POST' && pathname === '/entries') return addEntry(req, res);
  send(res, 404, 'not found\n', 'text/plain');
}

const server = createServer((req, res) => {
  handle(req, res).catch((error) => {
    console.error(`${req.method} ${req.url} failed: ${error.stack}`);
    if (!res.headersSent) send(res, 500, 'internal error\n', 'text/plain');
    else res.destroy();
  });
});

server.listen(port, host, () => console.log(`listening on http://${host}:${port}/`));

// Finish in-flight requests on SIGTERM, then close the database connections.
process.on('SIGTERM', () => server.close(() => pool.end().then(() => process.exit(0))));
