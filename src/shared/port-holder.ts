import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** A TCP socket in LISTEN state, as /proc/net/tcp{,6} tell it. */
export interface ListeningSocket {
  /** 127.0.0.1, 0.0.0.0, ::, ::1, … */
  address: string;
  port: number;
}

/** 127.0.0.1:3000, [::]:3000 */
export function socketText(socket: ListeningSocket): string {
  return socket.address.includes(':') ? `[${socket.address}]:${socket.port}` : `${socket.address}:${socket.port}`;
}

/** An IPv4 address in /proc/net/tcp is one little-endian 32-bit word in hex. */
function ipv4(hex: string): string {
  return [6, 4, 2, 0].map((at) => parseInt(hex.slice(at, at + 2), 16)).join('.');
}

/** An IPv6 address is four such words; the common ones are named plainly. */
function ipv6(hex: string): string {
  if (/^0{32}$/.test(hex)) return '::';
  if (hex === '00000000000000000000000001000000') return '::1';
  // ::ffff:a.b.c.d, an IPv4 address on a dual-stack socket.
  if (hex.startsWith('0000000000000000FFFF0000')) return ipv4(hex.slice(24));
  const words = [0, 8, 16, 24].map((at) => hex.slice(at, at + 8).match(/../g)!.reverse().join(''));
  return words.join('').match(/.{4}/g)!.map((group) => group.replace(/^0+(?=.)/, '').toLowerCase()).join(':');
}

/** Every listening TCP socket of the machine, by its inode. Empty where /proc is not. */
function listeningByInode(): Map<string, ListeningSocket> {
  const sockets = new Map<string, ListeningSocket>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is ADDR:PORT; state 0A is LISTEN; field 9 is the inode.
      const [address, port] = fields[1]?.split(':') ?? [];
      if (fields[3] !== '0A' || !address || !port) continue;
      sockets.set(fields[9]!, { address: address.length === 8 ? ipv4(address) : ipv6(address), port: parseInt(port, 16) });
    }
  }
  return sockets;
}

/** The socket inodes a process holds open (none when it is gone or not ours to read). */
function socketInodes(pid: number): string[] {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  return fds.flatMap((fd) => {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      return inode ? [inode] : [];
    } catch {
      return []; // the fd closed while we looked
    }
  });
}

/** The TCP sockets these processes listen on, without repeats, lowest port first. */
export function listeningSockets(pids: number[]): ListeningSocket[] {
  const all = listeningByInode();
  const found = new Map<string, ListeningSocket>();
  for (const pid of pids) {
    for (const inode of socketInodes(pid)) {
      const socket = all.get(inode);
      if (socket) found.set(`${socket.address} ${socket.port}`, socket);
    }
  }
  return [...found.values()].sort((a, b) => a.port - b.port);
}

/**
 * Who listens on a TCP port, when the system lets us see (Linux /proc; the
 * socket's inode, then the process holding it). Undefined when unknown.
 */
export function portHolder(port: number): { pid: number; command: string } | undefined {
  if (!existsSync('/proc/net/tcp')) return undefined;
  const inodes = new Set([...listeningByInode()].filter(([, socket]) => socket.port === port).map(([inode]) => inode));
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    if (!socketInodes(Number(entry)).some((inode) => inodes.has(inode))) continue;
    try {
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      return { pid: Number(entry), command: command || `pid ${entry}` };
    } catch {
      return { pid: Number(entry), command: `pid ${entry}` };
    }
  }
  return undefined;
}
