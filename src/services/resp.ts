import { connect, type Socket } from 'node:net';

export type Reply = string | number | null | Reply[] | RedisReplyError;
/** A reply read in binary mode: bulk strings (values, keys, DUMP payloads) as bytes; status lines stay text. */
export type BinaryReply = Buffer | string | number | null | BinaryReply[] | RedisReplyError;

export class RedisReplyError extends Error {}

/** A reply and the offset after it, or how many bytes the buffer must hold before it can be read. */
type Parsed = [BinaryReply, number] | number;

/** Reads one RESP2 reply from buffer at offset. */
function parse(buffer: Buffer, offset: number, binary: boolean): Parsed {
  const end = buffer.indexOf('\r\n', offset);
  if (end === -1) return buffer.length + 1;
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
      if (buffer.length < next + length + 2) return next + length + 2;
      return [binary ? Buffer.from(buffer.subarray(next, next + length)) : buffer.toString('utf8', next, next + length), next + length + 2];
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return [null, next];
      const items: BinaryReply[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parse(buffer, at, binary);
        if (typeof item === 'number') return item;
        items.push(item[0]);
        at = item[1];
      }
      return [items, at];
    }
    default:
      throw new Error(`unexpected reply from Redis: ${JSON.stringify(buffer.toString('utf8', offset, Math.min(buffer.length, offset + 40)))}`);
  }
}

function encode(args: Array<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const data = typeof arg === 'string' ? Buffer.from(arg) : arg;
    parts.push(Buffer.from(`$${data.length}\r\n`), data, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

export type RedisEndpoint = { host: string; port: number } | { path: string };

/**
 * One connection to a Redis server that stays open: batches of commands are
 * sent at once (pipelined) and each batch resolves with its replies, in
 * order. A reply that is an error is returned, not thrown. With `binary`,
 * bulk strings come back as Buffers (DUMP payloads, keys that are not text).
 * Waiting longer than timeoutMs for a reply drops the connection.
 */
export class RedisConnection {
  private readonly waiting: Array<{ count: number; replies: BinaryReply[]; resolve: (replies: BinaryReply[]) => void; reject: (error: Error) => void }> = [];
  private chunks: Buffer[] = [];
  private buffered = 0;
  private need = 1;
  private failure: Error | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly binary: boolean,
  ) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('Redis closed the connection')));
  }

  static open(endpoint: RedisEndpoint, options: { timeoutMs?: number; binary?: boolean } = {}): Promise<RedisConnection> {
    const timeoutMs = options.timeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const socket = 'path' in endpoint ? connect(endpoint.path) : connect(endpoint.port, endpoint.host);
      const connection = new RedisConnection(socket, options.binary ?? false);
      socket.setTimeout(timeoutMs, () => {
        if (connection.waiting.length > 0 || socket.connecting) socket.destroy(new Error(`Redis did not answer within ${timeoutMs} ms`));
      });
      socket.once('connect', () => resolve(connection));
      socket.once('error', reject);
    });
  }

  send(commands: Array<Array<string | Buffer>>): Promise<BinaryReply[]> {
    if (this.failure) return Promise.reject(this.failure);
    if (commands.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.waiting.push({ count: commands.length, replies: [], resolve, reject });
      this.socket.write(Buffer.concat(commands.map(encode)));
    });
  }

  close(): void {
    this.failure ??= new Error('the connection to Redis was closed');
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.need) return; // a large value still arriving: no parsing (and copying) until it is all here
    let buffer = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    let offset = 0;
    try {
      for (;;) {
        const parsed = parse(buffer, offset, this.binary);
        if (typeof parsed === 'number') {
          this.need = parsed - offset;
          break;
        }
        offset = parsed[1];
        const head = this.waiting[0];
        if (!head) throw new Error('Redis sent a reply nobody asked for');
        head.replies.push(parsed[0]);
        if (head.replies.length === head.count) {
          this.waiting.shift();
          head.resolve(head.replies);
        }
      }
    } catch (error) {
      this.socket.destroy(error as Error);
      return;
    }
    buffer = buffer.subarray(offset);
    this.chunks = buffer.length > 0 ? [buffer] : [];
    this.buffered = buffer.length;
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }
}

/**
 * Sends commands to a Redis server on one connection and resolves with every
 * reply, in order; a reply that is an error is returned, not thrown, so the
 * caller decides which ones matter. The connection is closed afterwards.
 */
export async function redisCommands(endpoint: RedisEndpoint, commands: string[][], timeoutMs = 5000): Promise<Reply[]> {
  const connection = await RedisConnection.open(endpoint, { timeoutMs });
  try {
    return (await connection.send(commands)) as Reply[];
  } finally {
    connection.close();
  }
}

/** Commands whose arguments hold secrets (passwords): a message names the command only. */
const SECRET_ARGUMENTS = new Set(['AUTH', 'ACL', 'HELLO', 'MIGRATE', 'CONFIG']);

/** A command as a message shows it: its name, and its first argument unless the command carries secrets (AUTH, ACL SETUSER, HELLO). */
export function commandText(command: Array<string | Buffer>): string {
  const name = String(command[0] ?? '').toUpperCase();
  if (SECRET_ARGUMENTS.has(name)) return name === 'ACL' || name === 'CONFIG' ? `${name} ${String(command[1] ?? '').toUpperCase()}`.trim() : name;
  return typeof command[1] === 'string' ? `${name} ${command[1]}` : name;
}

/** Throws the first error reply, with the command that caused it (never a command's secrets). */
export function firstError(replies: BinaryReply[], commands: Array<Array<string | Buffer>>): void {
  replies.forEach((reply, index) => {
    if (reply instanceof RedisReplyError) throw new Error(`${commandText(commands[index] ?? [])}: ${reply.message}`);
  });
}
