// A very small Redis client: RESP2 over node:net, just enough for this example.
// One connection, replies matched to commands in order, no reconnect.
import { connect as netConnect } from 'node:net';
import { once } from 'node:events';

export class RedisError extends Error {}

/**
 * Connects to redis://[user:password@]host[:port][/db], authenticates and
 * selects the database. Resolves to { command(...args), quit(), closed }, where
 * `closed` is a promise that settles, with the error if any, when the connection ends.
 */
export async function connect(url) {
  const { protocol, hostname, port, username, password, pathname } = new URL(url);
  if (protocol !== 'redis:') throw new Error(`unsupported Redis URL scheme ${protocol} (only redis:)`);
  const db = pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new Error(`the Redis URL's path must be a database number, not "${db}"`);

  // The URL keeps [brackets] around IPv6 addresses and %-escapes in credentials.
  const socket = netConnect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port || 6379) });
  socket.setNoDelay(true);
  socket.setTimeout(5000, () => socket.destroy(new Error(`timed out connecting to ${hostname}:${port || 6379}`)));

  const pending = []; // { resolve, reject } per command sent, oldest first
  let buffer = Buffer.alloc(0);
  let failure;

  socket.on('data', (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    // A chunk may hold several replies, or only part of one: take every whole reply.
    for (;;) {
      let reply;
      try {
        reply = parseReply(buffer, 0);
      } catch (error) {
        socket.destroy(error); // out of step with the server: nothing after this can be trusted
        return;
      }
      if (reply === undefined) return;
      buffer = buffer.subarray(reply.next);
      const waiter = pending.shift();
      if (reply.value instanceof RedisError) waiter?.reject(reply.value);
      else waiter?.resolve(reply.value);
    }
  });

  const closed = new Promise((resolve) => {
    socket.on('error', (error) => (failure = error));
    socket.on('close', () => {
      failure ??= new Error('Redis connection closed');
      for (const waiter of pending.splice(0)) waiter.reject(failure);
      resolve(failure);
    });
  });

  function command(...args) {
    if (socket.destroyed || socket.writableEnded) return Promise.reject(failure ?? new Error('Redis connection closed'));
    return new Promise((resolve, reject) => {
      pending.push({ resolve, reject });
      socket.write(encodeCommand(args));
    });
  }

  await once(socket, 'connect'); // rejects if 'error' comes first
  socket.setTimeout(0);
  try {
    const user = decodeURIComponent(username);
    const pass = decodeURIComponent(password);
    if (user) await command('AUTH', user, pass); // Redis 6 ACL user
    else if (pass) await command('AUTH', pass);
    if (db !== '') await command('SELECT', db);
  } catch (error) {
    socket.destroy();
    throw error;
  }

  return {
    command,
    closed,
    /** Ends the connection politely; commands already sent still get their replies. */
    quit: () => command('QUIT'),
  };
}

/** A command as a RESP array of bulk strings: *<count>\r\n then $<bytes>\r\n<arg>\r\n each. */
function encodeCommand(args) {
  let out = `*${args.length}\r\n`;
  for (const arg of args) {
    const text = String(arg);
    out += `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
  }
  return out;
}

/**
 * Parses one RESP2 reply starting at `start`. Returns { value, next } (next is
 * where the following reply starts), or undefined when the buffer holds only part of it.
 * Error replies become RedisError values, so that errors inside arrays survive.
 */
function parseReply(buffer, start) {
  const end = buffer.indexOf('\r\n', start);
  if (end === -1) return undefined;
  const type = String.fromCharCode(buffer[start]);
  const line = buffer.toString('utf8', start + 1, end);
  const next = end + 2;
  switch (type) {
    case '+': // simple string
      return { value: line, next };
    case '-': // error
      return { value: new RedisError(line), next };
    case ':': // integer (a Number: exact up to 2^53, plenty for a counter)
      return { value: Number(line), next };
    case '$': { // bulk string, or null for $-1
      const length = Number(line);
      if (length < 0) return { value: null, next };
      if (buffer.length < next + length + 2) return undefined;
      return { value: buffer.toString('utf8', next, next + length), next: next + length + 2 };
    }
    case '*': { // array, or null for *-1
      const count = Number(line);
      if (count < 0) return { value: null, next };
      const items = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buffer, at);
        if (item === undefined) return undefined;
        items.push(item.value);
        at = item.next;
      }
      return { value: items, next: at };
    }
    default:
      throw new Error(`unexpected reply from Redis: ${JSON.stringify(buffer.toString('utf8', start, end))}`);
  }
}
