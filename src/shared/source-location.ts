/**
 * A deploy's source that git fetches from elsewhere ("https://…", "ssh://…",
 * "file://…", "git@host:repo"): passed on as given, never read as a path.
 */
export function isRemoteSource(source: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(source) || /^[\w.-]+@[\w.-]+:/.test(source);
}
