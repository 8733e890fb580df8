/**
 * An app's current version as every face says it: "v3", or "v3 (dev serving)"
 * while a development `up` of the app holds APP.localhost (the version runs
 * on vN.APP.localhost meanwhile); null for an app never deployed. No imports:
 * the web console bundles it too.
 */
export function versionText(app: { version: number | null; servedBy: 'dev' | 'version' | null }): string | null {
  if (app.version === null) return null;
  return app.servedBy === 'dev' ? `v${app.version} (dev serving)` : `v${app.version}`;
}
