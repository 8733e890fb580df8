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

/** The sockets of the machine that take connections (TCP in LISTEN) or datagrams (bound UDP), by inode; with the uid that made each. Empty where /proc is not. */
function listeningByInode(protocol: 'tcp' | 'udp' = 'tcp'): Map<string, ListeningSocket & { uid: number }> {
  const sockets = new Map<string, ListeningSocket & { uid: number }>();
  // 0A is TCP's LISTEN; a bound UDP socket that is not connected reads 07.
  const listening = protocol === 'tcp' ? '0A' : '07';
  for (const table of [`/proc/net/${protocol}`, `/proc/net/${protocol}6`]) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is ADDR:PORT, field 3 the state, 7 the uid, 9 the inode.
      const [address, port] = fields[1]?.split(':') ?? [];
      if (fields[3] !== listening || !address || !port) continue;
      sockets.set(fields[9]!, { address: address.length === 8 ? ipv4(address) : ipv6(address), port: parseInt(port, 16), uid: Number(fields[7]) });
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

/** Who holds a port: the uid that opened the socket, and the process when this user may see it. */
export interface PortOwner {
  uid: number;
  pid?: number;
  command?: string;
}

/**
 * Who listens on a port (TCP) or is bound to it (UDP), when the system lets
 * us see (Linux /proc: the socket's inode, then the process holding it).
 * Undefined when nothing does, or it cannot be known.
 */
export function portOwner(port: number, protocol: 'tcp' | 'udp' = 'tcp'): PortOwner | undefined {
  if (!existsSync(`/proc/net/${protocol}`)) return undefined;
  const matching = [...listeningByInode(protocol)].filter(([, socket]) => socket.port === port);
  if (matching.length === 0) return undefined;
  const inodes = new Set(matching.map(([inode]) => inode));
  const uid = matching[0]![1].uid;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    if (!socketInodes(Number(entry)).some((inode) => inodes.has(inode))) continue;
    try {
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      return { uid, pid: Number(entry), command: command || `pid ${entry}` };
    } catch {
      return { uid, pid: Number(entry), command: `pid ${entry}` };
    }
  }
  // Another user's process: its socket is listed, its file descriptors are not ours to read.
  return { uid };
}

/** Who listens on a TCP port, when the process can be seen; undefined when unknown. */
export function portHolder(port: number): { pid: number; command: string } | undefined {
  const owner = portOwner(port);
  return owner?.pid !== undefined ? { pid: owner.pid, command: owner.command! } : undefined;
}
