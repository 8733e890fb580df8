import { connect } from 'node:net';

export type Reply = string | number | null | Reply[] | RedisReplyError;

export class RedisReplyError extends Error {}

/** Reads one RESP2 reply from buffer at offset: [reply, next offset], or undefined if incomplete. */
function parse(buffer: Buffer, offset: number): [Reply, number] | undefined {
  const end = buffer.indexOf('\r\n', offset);
  if (end === -1) return undefined;
  const type = String.fromCharCode(buffer[offset]!);
  const line = buffer.toString('utf8', offset + 1, end);
  const next = end + 2;
  switch (type) {
    case '+':
      return [line, next];
    case '-':
      return [new RedisReplyError(line), next];
    case ':':
      return [Number(line), next];
    case '$': {
      const length = Number(line);
      if (length < 0) return [null, next];
      if (buffer.length < next + length + 2) return undefined;
      return [buffer.toString('utf8', next, next + length), next + length + 2];
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return [null, next];
      const items: Reply[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parse(buffer, at);
        if (!item) return undefined;
        items.push(item[0]);
        at = item[1];
      }
      return [items, at];
    }
    default:
      throw new Error(`unexpected reply from Redis: ${JSON.stringify(buffer.toString('utf8', offset, Math.min(buffer.length, offset + 40)))}`);
  }
}

const encode = (args: string[]) => `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;

/**
 * Sends commands to a Redis server on one connection and resolves with every
 * reply, in order; a reply that is an error is returned, not thrown, so the
 * caller decides which ones matter. The connection is closed afterwards.
 */
export function redisCommands(endpoint: { host: string; port: number } | { path: string }, commands: string[][], timeoutMs = 5000): Promise<Reply[]> {
  return new Promise((resolve, reject) => {
    const socket = 'path' in endpoint ? connect(endpoint.path) : connect(endpoint.port, endpoint.host);
    let buffer: Buffer = Buffer.alloc(0);
    const replies: Reply[] = [];
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`Redis did not answer within ${timeoutMs} ms`)));
    socket.on('connect', () => socket.write(commands.map(encode).join('')));
    socket.on('data', (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      let offset = 0;
      try {
        for (let reply = parse(buffer, offset); reply; reply = parse(buffer, offset)) {
          replies.push(reply[0]);
          offset = reply[1];
          if (replies.length === commands.length) {
            socket.end();
            resolve(replies);
            return;
          }
        }
      } catch (error) {
        socket.destroy(error as Error);
        return;
      }
      buffer = buffer.subarray(offset);
    });
    socket.on('error', reject);
    socket.on('close', () => {
      if (replies.length < commands.length) reject(new Error('Redis closed the connection'));
    });
  });
}

/** Throws the first error reply, with the command that caused it (secrets left out). */
export function firstError(replies: Reply[], commands: string[][]): void {
  replies.forEach((reply, index) => {
    if (reply instanceof RedisReplyError) throw new Error(`${commands[index]![0]} ${commands[index]![1] ?? ''}: ${reply.message}`.trim());
  });
}
