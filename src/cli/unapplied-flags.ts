import type { DaemonRecord } from '../api/client.js';
import type { Settings } from '../shared/settings.js';

/**
 * The port flags of a command that a daemon already running does not have:
 * they take effect only when it starts again, and are said rather than
 * dropped. undefined when it runs as asked (0, any free port, asks nothing
 * in particular).
 */
export function unappliedFlags(settings: Settings, record: DaemonRecord): string | undefined {
  const differ: string[] = [];
  const { source } = settings;
  const tls = record.tlsPort ?? null;
  if (source.proxyPort === 'flag' && settings.proxyPort !== 0 && settings.proxyPort !== record.proxyPort) differ.push(`--proxy-port ${settings.proxyPort} (its router is on ${record.proxyPort ?? 'no port'})`);
  if (source.tlsPort === 'flag') {
    if (settings.tlsPort === undefined) {
      if (tls !== null) differ.push(`--no-tls (it serves https on ${tls})`);
    } else if (tls === null) differ.push(`--tls-port ${settings.tlsPort} (it runs without TLS)`);
    else if (settings.tlsPort !== 0 && settings.tlsPort !== tls) differ.push(`--tls-port ${settings.tlsPort} (its https is on ${tls})`);
  }
  if (source.apiPort === 'flag' && settings.apiPort !== undefined) {
    if (record.apiPort === null) differ.push(`--api-port ${settings.apiPort} (it serves the API on its socket only)`);
    else if (settings.apiPort !== 0 && settings.apiPort !== record.apiPort) differ.push(`--api-port ${settings.apiPort} (its API is on ${record.apiPort})`);
  }
  if (differ.length === 0) return undefined;
  return `the daemon (pid ${record.pid}) already runs, so ${differ.join(' and ')} ${differ.length === 1 ? 'does' : 'do'} not apply: stop it first with paasmaker daemon stop, then run this again`;
}

/** Says on stderr, as a note, the flags a running daemon did not take (nothing when it took them all). */
export function noteUnappliedFlags(settings: Settings, record: DaemonRecord, paint: (color: 'yellow', text: string) => string): void {
  const notice = unappliedFlags(settings, record);
  if (notice) process.stderr.write(`${paint('yellow', 'note:')} ${notice}\n`);
}
