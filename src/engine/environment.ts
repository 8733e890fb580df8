import { delimiter } from 'node:path';
import type { RuntimePlan } from '../../runtimes/index.js';
import type { ResolvedInstance, ResolvedManifest } from '../manifest/index.js';
import { isSecret, maskSecret } from '../services/index.js';
import { PaasmakerError } from '../shared/errors.js';

/** The address a routed instance listens on ($HOST): loopback, the only address the router connects to. */
export const LISTEN_HOST = '127.0.0.1';

/**
 * The environment of an instance, lowest precedence first: Paasmaker's own
 * environment, the project's .env, the services' credentials (they replace a
 * stale DATABASE_URL in .env), the manifest's environment, the runtime's
 * additions, then what the platform decides (PORT, HOST and its identity).
 */
export function instanceEnvironment(options: {
  base: NodeJS.ProcessEnv;
  manifest: ResolvedManifest;
  instance: ResolvedInstance;
  plan: RuntimePlan;
  index: number;
  port?: number;
  ownerToken: string;
  /** Credentials of the app's services (serviceEnvironment). */
  services?: Record<string, string>;
}): Record<string, string> {
  const { base, manifest, instance, plan, index, port } = options;
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) if (value !== undefined) env[key] = value;
  // A PORT from the developer's shell must never leak into an instance.
  delete env.PORT;
  delete env.PM_PORT;
  Object.assign(env, manifest.dotenv.values, options.services, instance.environment, plan.env);
  if (plan.pathPrepend.length > 0) env.PATH = [...plan.pathPrepend, env.PATH ?? ''].filter(Boolean).join(delimiter);
  env.PAASMAKER_APP = manifest.application.name;
  env.PAASMAKER_INSTANCE = instance.name;
  env.PAASMAKER_INDEX = String(index);
  // Marks every descendant, so the keeper can find one that left its process group.
  env.PAASMAKER_OWNER = options.ownerToken;
  if (port !== undefined) {
    env.PORT = String(port);
    env.PM_PORT = String(port);
    // Where to listen, over a HOST from the shell, .env or manifest: the router reaches instances on loopback only (a container export gives 0.0.0.0).
    env.HOST = LISTEN_HOST;
  }
  return env;
}

/**
 * What `paasmaker env` shows of an app: its .env, its services' credentials,
 * one instance type's manifest environment (the routed one, web, by default)
 * and PAASMAKER_APP; not Paasmaker's own environment, the runtime's PATH or a port.
 */
export function appEnvironment(manifest: ResolvedManifest, services: Record<string, string>, instanceName?: string): Record<string, string> {
  const instance = instanceName ? manifest.instances.find((candidate) => candidate.name === instanceName) : (manifest.instances.find((candidate) => candidate.name === 'web') ?? manifest.instances[0]);
  if (instanceName && !instance) {
    throw new PaasmakerError('INSTANCE_NOT_FOUND', `no instance type "${instanceName}" in ${manifest.file}`, { hint: `instance types: ${manifest.instances.map((candidate) => candidate.name).join(', ')}` });
  }
  return { ...manifest.dotenv.values, ...services, ...(instance?.environment ?? {}), PAASMAKER_APP: manifest.application.name };
}

/** An environment with its secrets (passwords, credentials in URLs, PM_SERVICES' passwords) masked. */
export function maskEnvironment(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, isSecret(key, value) ? maskSecret(key, value) : value]));
}

/** The variables an app's files set: .env and each instance's environment. */
export function envSummary(manifest: ResolvedManifest): Record<string, string> {
  const out: Record<string, string> = { ...manifest.dotenv.values };
  for (const instance of manifest.instances) for (const [key, value] of Object.entries(instance.environment)) out[`${key}`] = value;
  return out;
}

/** "+ KEY=value", "- KEY", "~ KEY=new", secrets masked. */
export function diffEnvironment(before: Record<string, string>, after: Record<string, string>): string[] {
  const lines: string[] = [];
  const show = (key: string, value: string) => (isSecret(key, value) ? maskSecret(key, value) : value);
  for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    if (!(key in after)) lines.push(`  - ${key}`);
    else if (!(key in before)) lines.push(`  + ${key}=${show(key, after[key]!)}`);
    else if (before[key] !== after[key]) lines.push(`  ~ ${key}=${show(key, after[key]!)}`);
  }
  return lines;
}

