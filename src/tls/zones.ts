import { DNS_ZONE } from '../shared/settings.js';

/**
 * The names the local CA may certify, written into its root as a name
 * constraint: `localhost` (with every name under it, as RFC 5280 reads a
 * dNSName constraint) and the DNS responder's zone. A root trusted by a
 * browser then cannot vouch for any other site, even if its key leaked.
 */
export const LOCAL_ZONES = ['localhost', DNS_ZONE] as const;

/** The loopback addresses (as CIDR), the only IP addresses the root may certify. */
export const LOCAL_ADDRESSES = ['127.0.0.0/8', '::1/128'] as const;

/** Whether a (lower-case) name is in a local zone. */
export function inLocalZones(name: string): boolean {
  return LOCAL_ZONES.some((zone) => name === zone || name.endsWith(`.${zone}`));
}

/** A host name a certificate can carry: lower-case labels of letters, digits, - and _, 253 characters at most. */
export function validHostName(name: string): boolean {
  return name.length <= 253 && /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/.test(name);
}
