/**
 * An app's identity is its name plus its checkout: the main worktree of a
 * repository runs as "shop", any other worktree as "shop@feature-x", where
 * the label is the branch made hostname-safe (or the short commit of a
 * detached HEAD). Its names through the router are feature-x.shop.localhost.
 * No imports: the web console's bundle uses it too.
 */

/** A label never looks like a version run ("shop@v3" is version 3, v3.shop.localhost its name). */
const VERSION_LIKE = /^v\d+$/;

/** A branch (or commit) made into one DNS label: a-z, 0-9 and "-", at most 40 characters. */
export function checkoutLabel(branch: string): string {
  const label =
    branch
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40)
      .replace(/-+$/, '') || 'checkout';
  return VERSION_LIKE.test(label) ? `${label}-branch` : label;
}

/** "shop" + "feature-x" → "shop@feature-x"; the main worktree's key is the name alone. */
export function appKey(app: string, label?: string): string {
  return label ? `${app}@${label}` : app;
}

/** "shop@feature-x" → {app: "shop", label: "feature-x"}; "shop" → {app: "shop"}. */
export function splitAppKey(key: string): { app: string; label?: string } {
  const at = key.indexOf('@');
  return at < 0 ? { app: key } : { app: key.slice(0, at), label: key.slice(at + 1) };
}

/** The host name an app key answers to, before ".localhost": "shop", "feature-x.shop". */
export function appHostBase(key: string): string {
  const { app, label } = splitAppKey(key);
  return label ? `${label}.${app}` : app;
}

/** A manifest's own host name for a checkout: "api.example.test" → "feature-x.api.example.test" ("*.x" → "*.feature-x.x"). */
export function checkoutHostname(hostname: string, label?: string): string {
  if (!label) return hostname;
  return hostname.startsWith('*.') ? `*.${label}.${hostname.slice(2)}` : `${label}.${hostname}`;
}
