import type { z } from 'zod';
import { PaasmakerError } from './errors.js';

/**
 * What the registry, and the manifest's checks, need of a runtime plugin.
 * runtimes/types.ts's RuntimePlugin is one; runtimes/index.ts's getRuntime
 * gives it back with its full type. (The registry sits below the runtimes
 * and the services, which register into it, so it names neither.)
 */
export interface RegisteredRuntime {
  name: string;
  options?: z.ZodObject;
  defaultCommand?: unknown;
}

/** Makes a platform's instance of a service plugin; src/services/registry.ts's ServiceFactory is one. */
export type RegisteredServiceFactory = (context: never) => object;

/** Where a plugin came from: "built-in", "package NAME@VERSION", "path ./folder". */
export type PluginOrigin = string;

/** A service plugin as registered: its factory, its config.yml options, who provided it. */
export interface ServiceEntry {
  name: string;
  factory: RegisteredServiceFactory;
  /** config.yml's `services.NAME.<option>` (and the manifest's), checked against it. */
  options?: z.ZodObject;
  summary?: string;
  origin: PluginOrigin;
}

/** One plugin package (or the built-ins), as `paasmaker plugins` shows it. */
export interface PluginRecord {
  name: string;
  origin: PluginOrigin;
  version?: string;
  runtimes: string[];
  services: string[];
  state: 'loaded' | 'failed';
  /** Why it failed: a positioned message (config.yml:LINE:COL: …). */
  error?: string;
  hint?: string;
}

/**
 * The one registry of runtime and service plugins. The built-ins register
 * through the same calls a plugin package's do; the name lists are live
 * arrays, so the manifest's and config.yml's name checks see what plugins added.
 */
class PluginRegistry {
  private readonly runtimeMap = new Map<string, { plugin: RegisteredRuntime; origin: PluginOrigin }>();
  private readonly serviceMap = new Map<string, ServiceEntry>();
  /** Runtime names, in registration order (live). */
  readonly runtimeNames: string[] = [];
  /** Service plugin names, in registration order (live). */
  readonly serviceNames: string[] = [];
  /** Service factories by name (live), for callers that index it. */
  readonly serviceFactories: Record<string, RegisteredServiceFactory> = Object.create(null) as Record<string, RegisteredServiceFactory>;
  private readonly records: PluginRecord[] = [];

  /** Registers a runtime; a name already taken is an error naming who has it. */
  addRuntime(plugin: RegisteredRuntime, origin: PluginOrigin): void {
    this.checkFree('runtime', plugin.name);
    this.runtimeMap.set(plugin.name, { plugin, origin });
    this.runtimeNames.push(plugin.name);
  }

  /** Registers a service plugin's factory; a name already taken is an error naming who has it. */
  addService(name: string, factory: RegisteredServiceFactory, origin: PluginOrigin, extra: { options?: z.ZodObject; summary?: string } = {}): void {
    this.checkFree('service', name);
    this.serviceMap.set(name, { name, factory, origin, ...extra });
    this.serviceNames.push(name);
    this.serviceFactories[name] = factory;
  }

  /** Throws PLUGIN_CLASH when `name` is taken. */
  checkFree(kind: 'runtime' | 'service', name: string): void {
    const taken = kind === 'runtime' ? this.runtimeMap.get(name)?.origin : this.serviceMap.get(name)?.origin;
    if (taken !== undefined) {
      throw new PaasmakerError('PLUGIN_CLASH', `the ${kind} "${name}" is already provided by ${taken === 'built-in' ? 'Paasmaker itself (built-in)' : taken}`, {
        hint: `rename the ${kind} in the plugin, or remove one of the two plugins from config.yml`,
      });
    }
  }

  runtime(name: string): RegisteredRuntime | undefined {
    return this.runtimeMap.get(name)?.plugin;
  }

  runtimeOrigin(name: string): PluginOrigin | undefined {
    return this.runtimeMap.get(name)?.origin;
  }

  service(name: string): ServiceEntry | undefined {
    return this.serviceMap.get(name);
  }

  /** Records a plugin package's outcome (loaded or failed), for `paasmaker plugins`. */
  record(record: PluginRecord): void {
    this.records.push(record);
  }

  /** The built-ins first, then each plugin of config.yml in its order. */
  list(): PluginRecord[] {
    const builtIn: PluginRecord = {
      name: 'paasmaker',
      origin: 'built-in',
      runtimes: [...this.runtimeMap].filter(([, entry]) => entry.origin === 'built-in').map(([name]) => name),
      services: [...this.serviceMap.values()].filter((entry) => entry.origin === 'built-in').map((entry) => entry.name),
      state: 'loaded',
    };
    return [builtIn, ...this.records];
  }

  /** Plugins that failed to load: what a missing runtime or service may be waiting for. */
  failed(): PluginRecord[] {
    return this.records.filter((record) => record.state === 'failed');
  }

  /** A sentence for an error about a name nobody provides, when plugins failed to load; '' otherwise. */
  failedNote(): string {
    const failed = this.failed();
    if (failed.length === 0) return '';
    return ` (plugins that failed to load: ${failed.map((record) => `${record.name}: ${record.error}`).join('; ')})`;
  }
}

export const registry = new PluginRegistry();
