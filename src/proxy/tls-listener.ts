import type { Server, Socket } from 'node:net';
import { createServer, type SecureContext, type TLSSocket } from 'node:tls';
import { hostOf, type RoutingTable } from './routing-table.js';

/** Where TLS certificates come from: one per host name, asked for at the first handshake that names it (SNI). */
export interface CertificateSource {
  /** The context (key and certificate) for a name the router routes; rejects when there can be none, and the handshake fails. */
  contextFor(name: string): Promise<SecureContext>;
}

export interface RouterTls {
  /** 0 picks a free port. */
  port: number;
  certificates: CertificateSource;
  /** When the port is taken, the router goes on without TLS (and says so in its log) instead of failing. */
  optional?: boolean;
}

/** The protocols offered by ALPN, preferred first: HTTP/2 (see H2Session), and HTTP/1.1 for clients without it. */
const ALPN_PROTOCOLS = ['h2', 'http/1.1'];
/** Names refused a certificate are said once each; past this many, the memory of them starts again. */
const REFUSALS_KEPT = 1000;

export interface TlsListenerParts {
  table: RoutingTable;
  /** How long a handshake may take (the router's head deadline). */
  handshakeMs: number;
  /** A connection whose handshake is done. */
  accept: (socket: TLSSocket) => void;
  /** A connection accepted, before its handshake: closed with the router. */
  track: (socket: Socket) => void;
  log: (line: string) => void;
}

/**
 * The router's https side: the certificate is chosen by the name the client
 * asks for (SNI), and only a name the router routes gets one; a client that
 * names none, or another name, fails its handshake.
 */
export class TlsListener {
  /** Names the router routes that could get no certificate, already said in the log. */
  private readonly refusals = new Set<string>();

  constructor(
    private readonly tls: RouterTls,
    private readonly parts: TlsListenerParts,
  ) {}

  /** A server for one address. */
  server(): Server {
    const server = createServer(
      {
        allowHalfOpen: true,
        noDelay: true,
        ALPNProtocols: ALPN_PROTOCOLS,
        handshakeTimeout: this.parts.handshakeMs,
        SNICallback: (servername, done) => this.certificateFor(servername, done),
      },
      (socket) => this.parts.accept(socket),
    );
    // Until its handshake ends a connection is the listener's: closed with the router all the same.
    server.on('connection', (socket: Socket) => this.parts.track(socket));
    // A failed handshake (a name not routed, a client that does not trust the root) is the client's to report.
    server.on('tlsClientError', () => {});
    return server;
  }

  private certificateFor(servername: string, done: (error: Error | null, context?: SecureContext) => void): void {
    const name = hostOf(servername);
    if (!this.parts.table.lookup(name)) {
      done(new Error(`no app answers to ${name}`));
      return;
    }
    this.tls.certificates.contextFor(name).then(
      (context) => done(null, context),
      (error: Error) => {
        if (!this.refusals.has(name)) {
          if (this.refusals.size >= REFUSALS_KEPT) this.refusals.clear();
          this.refusals.add(name);
          this.parts.log(`no certificate for ${name}: ${error.message}`);
        }
        done(error);
      },
    );
  }
}
