/**
 * Where a browser reaches a name through the router, made in this one place
 * for every face (ps, up, the terminal UI, the console, the API's rows):
 * http:// on the router's port, and https:// on its TLS port when it listens
 * with TLS. A port is left out where it is the scheme's own (80, 443).
 * No imports: the web console's bundle uses it too.
 */

/** The router's ports: `http` while it runs, `https` while it also listens with TLS. */
export interface RouterPorts {
  http?: number | null;
  https?: number | null;
}

/** A name's URLs: `url` is plain http (null without a router), `httpsUrl` https (null without TLS). */
export interface NameUrls {
  url: string | null;
  httpsUrl: string | null;
}

export const NO_URLS: NameUrls = Object.freeze({ url: null, httpsUrl: null });

const STANDARD_PORT = { http: 80, https: 443 } as const;

function origin(scheme: 'http' | 'https', hostname: string, port: number): string {
  return `${scheme}://${hostname}${port === STANDARD_PORT[scheme] ? '' : `:${port}`}/`;
}

/** The URLs of a host name (shop.localhost, v3.shop.localhost) on the router's ports. */
export function nameUrls(hostname: string, ports: RouterPorts): NameUrls {
  if (!ports.http) return NO_URLS;
  return { url: origin('http', hostname, ports.http), httpsUrl: ports.https ? origin('https', hostname, ports.https) : null };
}

/** The URL to show first: https when the router listens with TLS, else http. */
export function primaryUrl(urls: Partial<NameUrls>): string | null {
  return urls.httpsUrl ?? urls.url ?? null;
}

/** "https://shop.localhost:7655/ (or http://shop.localhost:7654/)": both, https first; one when there is one. */
export function urlsText(urls: Partial<NameUrls>): string | null {
  if (urls.httpsUrl && urls.url) return `${urls.httpsUrl} (or ${urls.url})`;
  return primaryUrl(urls);
}
