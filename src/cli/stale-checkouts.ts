import { checkoutGone } from '../shared/git-checkout.js';

/** A provisioned service as state records it or `paasmaker services --json` lists it. */
type ServiceLike = { kind?: string; app: string | null; service: string | null; branch: string | null; checkout?: string | null };

/** The databases per branch made for a checkout that no longer exists (services prune drops them). */
export function staleServices<T extends ServiceLike>(rows: readonly T[]): T[] {
  const gone = new Map<string, boolean>();
  return rows.filter((row) => {
    if ((row.kind ?? 'service') !== 'service' || !row.branch || !row.checkout) return false;
    if (!gone.has(row.checkout)) gone.set(row.checkout, checkoutGone(row.checkout));
    return gone.get(row.checkout)!;
  });
}

/** "shop/db@feature-x" */
export const serviceTarget = (row: ServiceLike): string => `${row.app}/${row.service}${row.branch ? `@${row.branch}` : ''}`;

/** One line for `up`: the databases of checkouts that are gone, and how to drop them; undefined when there are none. */
export function staleNote(rows: readonly ServiceLike[]): string | undefined {
  const stale = staleServices(rows);
  if (stale.length === 0) return undefined;
  const names = stale.slice(0, 3).map(serviceTarget).join(', ');
  const more = stale.length > 3 ? ` and ${stale.length - 3} more` : '';
  return `${stale.length} database(s) of checkouts that no longer exist (${names}${more}): paasmaker services prune drops them`;
}
