import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { getRuntime, RuntimeNotInstalled } from '../../runtimes/index.js';
import { loadManifest, type ResolvedManifest } from '../manifest/index.js';
import { findBinary, loadConfig, pluginFor, SERVER_SOFTWARE, type PlatformConfig } from '../services/index.js';
import { errorText } from '../shared/errors.js';
import { installLine } from '../shared/install-line.js';
import type { DoctorCheck } from '../shared/views.js';

/** A project that has run on this platform: its app name and where its manifest is. */
export interface KnownProject {
  app: string;
  directory: string;
  manifest: string;
}

/** The manifests of the known projects that can still be read (a project moved or broken is up's to tell). */
function manifestsOf(projects: KnownProject[]): ResolvedManifest[] {
  return projects.flatMap((project) => {
    try {
      return [loadManifest(existsSync(project.manifest) ? project.manifest : project.directory)];
    } catch {
      return [];
    }
  });
}

const names = (apps: Iterable<string>) => [...new Set(apps)].sort().join(', ');

/** Each runtime (and version) the projects ask for resolves here, as `up` would resolve it; else the runtime's own fix. */
async function runtimeChecks(manifests: ResolvedManifest[], home: string, env: NodeJS.ProcessEnv): Promise<DoctorCheck[]> {
  const wanted = new Map<string, { users: string[]; manifest: ResolvedManifest; instance: ResolvedManifest['instances'][number] }>();
  for (const manifest of manifests) {
    for (const instance of manifest.instances) {
      const key = `${instance.runtime.name} ${instance.runtime.version ?? ''}`;
      const entry = wanted.get(key) ?? { users: [], manifest, instance };
      entry.users.push(`${manifest.application.name}/${instance.name}`);
      wanted.set(key, entry);
    }
  }
  const checks: DoctorCheck[] = [];
  for (const [key, { users, manifest, instance }] of wanted) {
    const asked = key.trim();
    try {
      const plan = await getRuntime(instance.runtime.name).plan({ manifest, instance, home, env });
      checks.push({ name: 'runtime', ok: true, what: `runtime ${asked} for ${names(users)}: ${plan.description}`, fix: null });
    } catch (error) {
      if (error instanceof RuntimeNotInstalled && getRuntime(instance.runtime.name).install) {
        // Not a fault: up installs it, unless it runs --offline or the registry cannot be reached.
        const what = `runtime ${asked} for ${names(users)}: not installed here; paasmaker up installs it (${errorText(error)})`;
        checks.push({ name: 'runtime', ok: true, what, fix: `to install it ahead of time: paasmaker runtimes install ${instance.runtime.name}@${error.range === '*' ? 'latest' : error.range}` });
        continue;
      }
      checks.push({ name: 'runtime', ok: false, what: `runtime ${asked} for ${names(users)}: ${errorText(error)}`, fix: (error as { hint?: string }).hint ?? `install ${instance.runtime.name}` });
    }
  }
  return checks;
}

/**
 * The database servers (PostgreSQL, MariaDB, Redis): found, or the line that
 * installs them here. Missing one fails only when a known project's service
 * needs it; otherwise its install line is there for when one does.
 */
function serverChecks(manifests: ResolvedManifest[], home: string, env: NodeJS.ProcessEnv): DoctorCheck[] {
  let config: PlatformConfig | undefined;
  try {
    config = loadConfig(home);
  } catch {
    config = undefined; // a broken config.yml is up's to tell, with its line and column
  }
  const users = new Map<string, string[]>();
  for (const manifest of manifests) {
    for (const service of manifest.services) {
      const plugin = config ? pluginFor(config, service.plugin) : undefined;
      if (plugin) users.set(plugin, [...(users.get(plugin) ?? []), manifest.application.name]);
    }
  }
  return SERVER_SOFTWARE.map((software) => {
    const found = software.binaries.map((aliases) => ({ aliases, file: findBinary(aliases, env) }));
    const missing = found.filter((binary) => !binary.file).map((binary) => binary.aliases.join(' or '));
    const install = installLine(software.packages);
    const needed = users.get(software.plugin);
    if (missing.length === 0) {
      return { name: 'database', ok: true, what: `${software.title} is installed (${names(found.map((binary) => dirname(binary.file!)))})`, fix: null };
    }
    const what = `${software.title} is not installed (${missing.join(', ')} not found on PATH)`;
    return needed
      ? { name: 'database', ok: false, what: `${what}; ${names(needed)} use${needed.length === 1 ? 's' : ''} it`, fix: install }
      : { name: 'database', ok: true, what: `${what}; no known project uses it`, fix: `to use it: ${install}` };
  });
}

/** The runtimes the known projects need and the database servers, each with the line that installs what is missing. */
export async function softwareChecks(projects: KnownProject[], home: string, env: NodeJS.ProcessEnv): Promise<DoctorCheck[]> {
  const manifests = manifestsOf(projects);
  return [...(await runtimeChecks(manifests, home, env)), ...serverChecks(manifests, home, env)];
}
