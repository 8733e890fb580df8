import { EventEmitter } from 'node:events';

/** One process behind a route. Only `running` upstreams receive requests. */
export interface Upstream {
  key: string;
  port: number;
  state: string;
}

/** Why a target has no ready upstream, for the holding logic and the error page. */
export interface TargetStatus {
  /** starting | running | backoff | crashed | stopping | stopped */
  state: string;
  nextRestartAt?: number;
  /** In backoff after running healthily: back in a moment, so requests wait rather than fail. */
  restarting?: boolean;
  /** How its last run ended ("not ready after 10 s: nothing accepted connections on port 41234"), and the likely fix. */
  reason?: string;
  hint?: string;
  /** The last lines the instance printed, newest last. */
  tail?: () => string[];
}

/** Where a hostname leads: one instance type of one app. */
export interface RouteTarget {
  app: string;
  instance: string;
  hostnames: string[];
  upstreams: Upstream[];
  /** A static instance: the router serves the folder itself. */
  static?: { root: string };
  status?: TargetStatus;
  /** The platform's own (the web console): no app's traffic, not on the 404 page's list of apps. */
  internal?: boolean;
}

export type TargetConfig = Omit<RouteTarget, 'app' | 'instance'> & { instance?: string };

export interface RoutingTableEvents {
  /** A target changed (new upstreams or state): held requests may go now. */
  change: [target: RouteTarget];
}

/** Normalises a Host header: lower case, no port, no trailing dot. */
export function hostOf(header: string | undefined): string {
  if (!header) return '';
  let host = header.trim().toLowerCase();
  if (host.startsWith('[')) host = host.slice(0, host.indexOf(']') + 1);
  else if (host.includes(':')) host = host.slice(0, host.indexOf(':'));
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/**
 * Hostname → target. Exact names win over wildcards; a wildcard `*.shop.localhost`
 * matches exactly one more label (a.shop.localhost, not a.b.shop.localhost).
 */
export class RoutingTable extends EventEmitter<RoutingTableEvents> {
  private readonly exact = new Map<string, RouteTarget>();
  private readonly wildcard = new Map<string, RouteTarget>();
  private readonly apps = new Map<string, RouteTarget[]>();

  /** Replaces every route of an app (one target, or one per routed instance type). */
  setApp(app: string, config: TargetConfig | TargetConfig[]): RouteTarget[] {
    this.removeApp(app);
    const targets = (Array.isArray(config) ? config : [config]).map((target) => ({ ...target, app, instance: target.instance ?? 'web' }));
    for (const target of targets) {
      for (const name of target.hostnames) {
        const host = name.toLowerCase();
        const map = host.startsWith('*.') ? this.wildcard : this.exact;
        const key = host.startsWith('*.') ? host.slice(2) : host;
        // The platform's own names (the console, whose session cookie they carry) are never an app's.
        if (map.get(key)?.internal && !target.internal) continue;
        map.set(key, target);
      }
    }
    this.apps.set(app, targets);
    for (const target of targets) this.emit('change', target);
    return targets;
  }

  /** Updates the upstreams and state of one instance type in place. */
  update(app: string, instance: string, patch: Partial<Pick<RouteTarget, 'upstreams' | 'status'>>): void {
    const target = this.apps.get(app)?.find((candidate) => candidate.instance === instance);
    if (!target) return;
    Object.assign(target, patch);
    this.emit('change', target);
  }

  removeApp(app: string): void {
    const targets = this.apps.get(app);
    if (!targets) return;
    for (const map of [this.exact, this.wildcard]) {
      for (const [host, target] of map) if (target.app === app) map.delete(host);
    }
    this.apps.delete(app);
    for (const target of targets) this.emit('change', { ...target, upstreams: [], status: { state: 'stopped' } });
  }

  lookup(hostHeader: string | undefined): RouteTarget | undefined {
    const host = hostOf(hostHeader);
    const exact = this.exact.get(host);
    if (exact) return exact;
    const dot = host.indexOf('.');
    return dot === -1 ? undefined : this.wildcard.get(host.slice(dot + 1));
  }

  /** Every app with its targets, for the 404 page. */
  list(): RouteTarget[] {
    return [...this.apps.values()].flat().filter((target) => !target.internal);
  }
}

/** Whether requests should wait for this target rather than get an error page. */
export function worthWaiting(target: RouteTarget): boolean {
  const state = target.status?.state;
  return state === undefined || state === 'starting' || (state === 'backoff' && target.status?.restarting === true);
}

export function readyUpstreams(target: RouteTarget): Upstream[] {
  return target.upstreams.filter((upstream) => upstream.state === 'running');
}
