// A visit counter in memcached, with no npm dependencies: it speaks
// memcached's text protocol over node:net. MEMCACHED_URL says where the
// server is; CACHE_PREFIX is this app's own part of its keys.
import { createServer } from 'node:http';
import { createConnection } from 'node:net';

const url = new URL(process.env.MEMCACHED_URL ?? '');
const prefix = process.env.CACHE_PREFIX ?? '';

/** Sends one command, resolves with the reply without its last CRLF once `done` matches the reply so far. */
function command(text, done = /^(?:STORED|NOT_STORED|NOT_FOUND|ERROR|CLIENT_ERROR [^\r]*|SERVER_ERROR [^\r]*)\r\n$/) {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: url.hostname, port: Number(url.port) });
    let reply = '';
    socket.setTimeout(2000, () => socket.destroy(new Error('memcached did not answer within 2 s')));
    socket.on('connect', () => socket.write(text));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (done.test(reply)) {
        socket.end();
        resolve(reply.slice(0, -2));
      }
    });
    socket.on('error', reject);
  });
}

async function set(key, value) {
  const reply = await command(`set ${prefix}${key} 0 0 ${Buffer.byteLength(value)}\r\n${value}\r\n`);
  if (reply !== 'STORED') throw new Error(`set ${key}: ${reply}`);
}

async function get(key) {
  const reply = await command(`get ${prefix}${key}\r\n`, /(?:^|\r\n)(?:END|ERROR|CLIENT_ERROR [^\r]*|SERVER_ERROR [^\r]*)\r\n$/);
  const match = /^VALUE \S+ \d+ \d+\r\n([\s\S]*)\r\nEND$/.exec(reply);
  return match ? match[1] : undefined;
}

/** incr, creating the counter on first use. */
async function increment(key) {
  const reply = await command(`incr ${prefix}${key} 1\r\n`, /^(?:\d+|NOT_FOUND|ERROR|CLIENT_ERROR [^\r]*|SERVER_ERROR [^\r]*)\r\n$/);
  if (reply !== 'NOT_FOUND') return Number(reply);
  await command(`add ${prefix}${key} 0 0 1\r\n1\r\n`);
  return 1;
}

createServer(async (request, response) => {
  const { pathname, searchParams } = new URL(request.url, 'http://localhost');
  try {
    if (pathname === '/health') return response.end('ok');
    if (pathname === '/set') {
      await set(searchParams.get('key'), searchParams.get('value') ?? '');
      return response.end('stored\n');
    }
    if (pathname === '/get') {
      const value = await get(searchParams.get('key'));
      response.writeHead(value === undefined ? 404 : 200, { 'content-type': 'application/json' });
      return response.end(JSON.stringify({ key: searchParams.get('key'), value: value ?? null, prefix }));
    }
    const visits = await increment('visits');
    response.end(`This page has been seen ${visits} times\n`);
  } catch (error) {
    response.writeHead(502, { 'content-type': 'text/plain' });
    response.end(`memcached: ${error.message}\n`);
  }
}).listen(Number(process.env.PORT), process.env.HOST || '127.0.0.1');
