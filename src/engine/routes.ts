import type { RuntimePlan } from '../../runtimes/index.js';
import type { ResolvedManifest } from '../manifest/index.js';
import { appHostBase, checkoutHostname } from '../shared/app-keys.js';
import type { RoutingTable, TargetConfig } from '../proxy/index.js';
import type { ProcessInfo, ProcessState, Supervisor } from '../supervisor/index.js';
import { parseProcessKey } from './events.js';
import { readinessHint } from './readiness-hint.js';

/** The name an instance type answers to: <app>.localhost for the routed one, <instance>.<app>.localhost for others (<label>.<app> for a checkout's). */
export function routedHostname(manifest: ResolvedManifest, instance: string): string {
  const routed = manifest.instances.filter((candidate) => !candidate.standalone);
  const primary = routed.find((candidate) => candidate.name === 'web') ?? routed[0];
  const name = appHostBase(manifest.application.name);
  return primary?.name === instance ? `${name}.localhost` : `${instance}.${name}.localhost`;
}

/** Keeps the router's table in step with the apps the platform runs and their processes' states. */
export class AppRoutes {
  /** Process keys in backoff after running healthily: the router holds their requests. */
  private readonly restarting = new Set<string>();
  /** The manifests of the apps routed, for the likely fix of one that is not ready. */
  private readonly manifests = new Map<string, ResolvedManifest>();

  constructor(
    private readonly table: RoutingTable,
    private readonly supervisor: Supervisor,
  ) {}

  /**
   * Hostnames: the routed instance (web, else the first with a port) answers
   * <app>.localhost and <app>.local.paasmaker; the others <instance>.<app>.…;
   * each also answers its manifest hostnames. A deployed version also answers
   * as itself, v<N>.<app>.localhost (<instance>.v<N>.<app>.… for the others);
   * one that is not the app's front run (a preview, or the current version
   * while a development up holds the app's names) answers only so, under its
   * run's key ("shop@v3"). With `upstreams`, the targets start with the
   * run's processes already in place: a switch moves the names in one step.
   */
  register(manifest: ResolvedManifest, plans: Map<string, RuntimePlan>, options: { key?: string; version?: number; front?: boolean; keys?: string[] } = {}): void {
    const key = options.key ?? manifest.application.name;
    // A checkout other than the main worktree answers as <label>.APP (and <label>.<manifest hostname>).
    const name = appHostBase(manifest.application.name);
    const label = manifest.checkout?.label;
    const front = options.front ?? true;
    this.manifests.set(key, manifest);
    const routed = manifest.instances.filter((instance) => !instance.standalone);
    const primary = routed.find((instance) => instance.name === 'web') ?? routed[0];
    const targets: TargetConfig[] = routed.map((instance) => {
      const own = instance === primary ? '' : `${instance.name}.`;
      const base = `${own}${name}`;
      const versioned = options.version === undefined ? [] : [`${own}v${options.version}.${name}.localhost`, `${own}v${options.version}.${name}.local.paasmaker`];
      const plan = plans.get(instance.name)!;
      return {
        instance: instance.name,
        hostnames: [...(front ? [`${base}.localhost`, `${base}.local.paasmaker`, ...instance.hostnames.map((hostname) => checkoutHostname(hostname, label))] : []), ...versioned],
        upstreams: [],
        static: plan.serve ? { root: plan.serve.root } : undefined,
        status: { state: 'starting' },
      };
    });
    this.table.setApp(key, targets);
    if (options.keys) for (const instance of routed) if (!plans.get(instance.name)?.serve) this.refresh(key, instance.name, options.keys);
  }

  /** Notes a state change: a healthy process that just exited is restarting, not failing. */
  observe(info: ProcessInfo, previous: ProcessState): void {
    if (info.state === 'backoff' && previous === 'running') this.restarting.add(info.id);
    else if (info.state !== 'starting') this.restarting.delete(info.id);
  }

  /** Tells the router which processes of an instance type can take requests now. */
  refresh(app: string, instance: string, keys: string[]): void {
    const infos = keys
      .filter((key) => parseProcessKey(key)?.instance === instance)
      .map((key) => this.supervisor.info(key))
      .filter((info): info is ProcessInfo => info !== undefined);
    const states = new Set(infos.map((info) => info.state));
    const state = (['running', 'starting', 'backoff', 'crashed', 'stopping'] as const).find((candidate) => states.has(candidate)) ?? 'stopped';
    const restarts = infos.map((info) => info.nextRestartAt).filter((at): at is number => at !== undefined);
    const first = infos[0]?.id;
    // Why it cannot answer, told by the error page: the last exit of a process that is not running.
    const failed = infos.find((info) => info.state !== 'running' && info.lastExit);
    const manifest = this.manifests.get(app);
    const spec = manifest?.instances.find((candidate) => candidate.name === instance);
    const hint = failed && manifest && spec ? readinessHint(failed, spec, manifest) : undefined;
    this.table.update(app, instance, {
      upstreams: infos.filter((info) => info.port !== undefined).map((info) => ({ key: info.id, port: info.port!, state: info.state })),
      status: {
        state,
        restarting: infos.some((info) => this.restarting.has(info.id)),
        nextRestartAt: restarts.length > 0 ? Math.min(...restarts) : undefined,
        reason: failed?.lastExit?.reason,
        hint,
        tail: () => (first ? this.supervisor.tail(first, 20).map((line) => line.line) : []),
      },
    });
  }

  remove(app: string): void {
    this.manifests.delete(app);
    this.table.removeApp(app);
  }
}
