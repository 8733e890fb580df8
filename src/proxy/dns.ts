import { createSocket, type Socket } from 'node:dgram';
import dnsPacket from 'dns-packet';
import { DNS_ZONE } from '../shared/settings.js';

export { DNS_ZONE };

/**
 * A tiny DNS responder for one zone: every name in it is this machine
 * (A 127.0.0.1, AAAA ::1); anything else is refused, never forwarded. The
 * operating system is pointed at it for the zone only (see `paasmaker dns setup`).
 */
export class DnsResponder {
  private socket?: Socket;

  constructor(private readonly options: { port: number; host?: string; zone?: string }) {}

  get port(): number {
    return this.socket?.address().port ?? 0;
  }

  listen(): Promise<void> {
    const socket = createSocket('udp4');
    socket.on('message', (message, remote) => {
      let reply: Buffer | undefined;
      try {
        reply = this.answer(message);
      } catch (error) {
        // A query the encoder cannot answer (an over-long name, say) is dropped, never fatal.
        process.stderr.write(`${new Date().toISOString()} dns: no answer to a query from ${remote.address}: ${(error as Error).message}\n`);
        return;
      }
      if (reply) socket.send(reply, remote.port, remote.address, () => {});
    });
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.options.port, this.options.host ?? '127.0.0.1', () => {
        socket.off('error', reject);
        socket.on('error', () => {});
        this.socket = socket;
        resolve();
      });
    });
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    return new Promise((resolve) => (socket ? socket.close(() => resolve()) : resolve()));
  }

  /** The reply to one query packet, or undefined for a packet that is not a query. */
  answer(message: Buffer): Buffer | undefined {
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return undefined;
    }
    if (query.type !== 'query' || !query.questions?.length) return undefined;
    const zone = (this.options.zone ?? DNS_ZONE).toLowerCase();
    const question = query.questions[0]!;
    const name = question.name.toLowerCase().replace(/\.$/, '');
    const inZone = name === zone || name.endsWith(`.${zone}`);
    const answers: dnsPacket.Answer[] = [];
    if (inZone && question.type === 'A') answers.push({ type: 'A', name: question.name, ttl: 60, data: '127.0.0.1' });
    if (inZone && question.type === 'AAAA') answers.push({ type: 'AAAA', name: question.name, ttl: 60, data: '::1' });
    return dnsPacket.encode({
      id: query.id,
      type: 'response',
      // AA (authoritative) plus REFUSED (5) for names we do not own.
      flags: dnsPacket.AUTHORITATIVE_ANSWER | (inZone ? 0 : 5),
      questions: [question],
      answers,
    });
  }
}
