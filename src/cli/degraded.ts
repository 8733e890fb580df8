import type { Degraded } from '../shared/disk-space.js';

export { degradedPlatforms } from '../api/index.js';

/** The line `ps` prints above its table. */
export function degradedLine(platform: { pid: number; degraded: Degraded }): string {
  const since = new Date(platform.degraded.since).toTimeString().slice(0, 8);
  return `degraded since ${since} (paasmaker pid ${platform.pid}): ${platform.degraded.reason} — apps and routing go on; state (this list too) and logs are written again once there is room`;
}
