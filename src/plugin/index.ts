/**
 * `paasmaker/plugin`: what a plugin package imports. A plugin adds runtimes
 * (how an instance is prepared and started) and service plugins (what an
 * app's `services:` provision) through the same interfaces Paasmaker's own
 * runtimes and services implement, and is listed in $PAASMAKER_HOME/config.yml:
 *
 *     plugins:
 *       - paasmaker-plugin-memcached     # installed by `paasmaker plugins add`
 *       - ./my-plugins/thing             # a folder or file, relative to config.yml
 *
 * The module's default export (or its export named `plugin`) is the value
 * definePlugin() returns. The platform loads plugins when it starts; one that
 * fails is reported (`paasmaker plugins`) and the rest of the platform runs.
 */
import type { z } from 'zod';
import type { RuntimePlugin } from '../../runtimes/types.js';
import type { ServiceContext, ServicePlugin } from '../services/types.js';

export type { InstallContext, RuntimeContext, RuntimeInstall, RuntimePlan, RuntimePlugin, RuntimeVersion } from '../../runtimes/types.js';
export type { Credentials, DataStep, QueryRequest, QueryResult, SchemaColumn, SchemaTable, ServerStatus, ServiceContext, ServicePlugin, ServiceRequest, ServiceSchema } from '../services/types.js';
/** A failure the user can act on: a code, a message, and a hint saying what to do. */
export { PaasmakerError } from '../shared/errors.js';
/**
 * One server for the whole platform, supervised like the built-in PostgreSQL
 * and Redis: data under $PAASMAKER_HOME/services/<name>, started on first need,
 * restarted when it crashes, shared with another paasmaker of the same home,
 * stopped with the platform. Subclass it: title, initialised(), initialise(),
 * configure(port), command(port), waitUntilReady(endpoint).
 */
export { ManagedServer, type ServerEndpoint } from '../services/managed-server.js';
/**
 * findBinary(names, env): the first of `names` on PATH (or in /usr/sbin, …), or undefined.
 * requireBinary(names, what, install, env): the same, or a PaasmakerError whose hint is `install`.
 */
export { findBinary, requireBinary } from '../services/binaries.js';
/** A free TCP port on 127.0.0.1. */
export { freePort } from '../shared/ports.js';
/** A string quoted for /bin/sh (for ManagedServer.command). */
export { shellQuote } from '../shared/shell.js';
/** zod, the same instance Paasmaker checks options with: a plugin declares its options with it. */
export { z } from 'zod';

/** A service plugin as a plugin package provides it. */
export interface ServiceSpec {
  /** Called once per platform: the returned object serves every app (a managed plugin keeps its server in it). */
  factory: (context: ServiceContext) => ServicePlugin;
  /**
   * Its options in config.yml (`services: {cache: {plugin: memcached, prefix: x}}`) and in a
   * manifest's service: checked when they are read, a key it does not list is an error.
   */
  options?: z.ZodObject;
  /** One line for `paasmaker plugins`. */
  summary: string;
}

/** What a plugin package exports. */
export interface PluginSpec {
  /** Shown by `paasmaker plugins` (the package name is a good one). */
  name: string;
  version?: string;
  /** Runtimes, by their `name` (manifests say `runtime: NAME`). A name Paasmaker or another plugin has is an error. */
  runtimes?: RuntimePlugin[];
  /** Service plugins by name (config.yml and manifests say `plugin: NAME`). */
  services?: Record<string, ServiceSpec>;
}

/** Declares a plugin: returns `spec` unchanged, typed. `export default definePlugin({...})`. */
export function definePlugin<Spec extends PluginSpec>(spec: Spec): Spec {
  return spec;
}
