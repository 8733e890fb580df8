import { recordedManifest, type Platform } from '../engine/index.js';

/**
 * Which projects the daemon runs: those handed over (up -d) are brought back
 * when it starts again; one a terminal holds stops when that terminal goes.
 */
export class DaemonProjects {
  constructor(
    private readonly platform: Platform,
    private readonly say: (line: string) => void,
  ) {}

  /** Brings back what ran here before the daemon stopped (or was killed). */
  async restore(): Promise<void> {
    // Deployed apps first, through their current versions; a development up handed over (up -d) then takes its app's names.
    for (const failure of await this.platform.restoreVersions(this.say)) {
      this.say(`could not restore ${failure.app}: ${failure.error}`);
      this.platform.warnings.raise(`could not bring ${failure.app} back: ${failure.error}`, failure.app);
    }
    for (const app of this.platform.state.apps.list().filter((candidate) => candidate.daemon)) {
      try {
        this.say(`restoring ${app.name} from ${app.manifest}`);
        // The file and the instance types it ran with (up -d -f Procfile.dev web).
        await this.platform.apply(await recordedManifest(app), { restore: true, resumed: true });
        await this.platform.watch(app.name);
      } catch (error) {
        this.say(`could not restore ${app.name}: ${(error as Error).message}`);
        this.platform.warnings.raise(`could not bring ${app.name} back: ${(error as Error).message}`, app.name);
      }
    }
  }

  /** The terminal that held an app went away: stop it, unless it was handed over with up -d. */
  async detached(app: string): Promise<void> {
    const record = this.platform.state.apps.get(app);
    if (record && !record.daemon && this.platform.runningApps().some((manifest) => manifest.application.name === app)) {
      this.say(`${app}: its terminal went away; stopping it`);
      await this.platform.stopDev(app);
    }
  }
}
