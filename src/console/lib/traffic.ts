import { onEvent } from './events.js';

/** One second of an app's traffic (every instance type summed). */
export interface TrafficPoint {
  at: number;
  requests: number;
  /** Responses by class: [none, 1xx, 2xx, 3xx, 4xx, 5xx]. */
  statuses: number[];
  p50: number | null;
  p99: number | null;
}

interface Sample {
  app: string;
  instance: string;
  requests: number;
  statuses: number[];
  p50: number | null;
  p99: number | null;
}

/** Ten minutes per app, kept for the page's life: the overview's sparklines and the app page's chart read the same history. */
const KEEP_S = 600;
const history = new Map<string, TrafficPoint[]>();
const watchers = new Set<() => void>();
let started = false;
let keptSince = Math.floor(Date.now() / 1000);

function add(app: string, at: number, sample: Sample): void {
  let points = history.get(app);
  if (!points) history.set(app, (points = []));
  let point = points[points.length - 1];
  if (!point || point.at !== at) {
    point = { at, requests: 0, statuses: [0, 0, 0, 0, 0, 0], p50: null, p99: null };
    points.push(point);
  }
  point.requests += sample.requests;
  sample.statuses.forEach((count, index) => (point!.statuses[index] = (point!.statuses[index] ?? 0) + count));
  // Several instance types: the slowest one's percentiles (an upper bound, never a made-up mean).
  if (sample.p50 !== null) point.p50 = Math.max(point.p50 ?? 0, sample.p50);
  if (sample.p99 !== null) point.p99 = Math.max(point.p99 ?? 0, sample.p99);
  while (points.length > 0 && points[0]!.at < at - KEEP_S) points.shift();
}

/** Starts keeping traffic.tick events; called once when the page signs in. */
export function keepTraffic(): void {
  if (started) return;
  started = true;
  keptSince = Math.floor(Date.now() / 1000);
  onEvent('traffic.tick', (tick: { at: number; samples: Sample[] }) => {
    for (const sample of tick.samples) add(sample.app, tick.at, sample);
    for (const watcher of watchers) watcher();
  });
}

/** Calls back on every tick; returns the way to stop. */
export function watchTraffic(listener: () => void): () => void {
  watchers.add(listener);
  return () => watchers.delete(listener);
}

/**
 * The last `seconds` of an app's traffic, one point per second, seconds
 * without requests as zeros (the router only reports seconds that saw some).
 */
export function trafficSeries(app: string, seconds: number, now = Math.floor(Date.now() / 1000)): TrafficPoint[] {
  const byAt = new Map((history.get(app) ?? []).map((point) => [point.at, point]));
  const series: TrafficPoint[] = [];
  for (let at = now - seconds + 1; at <= now; at++) series.push(byAt.get(at) ?? { at, requests: 0, statuses: [0, 0, 0, 0, 0, 0], p50: null, p99: null });
  return series;
}

/** Seconds of history the page holds (it keeps traffic from when it opened): a chart shows no more than that, and at least `least`. */
export function heldSeconds(most: number, least = 60): number {
  return Math.max(least, Math.min(most, Math.floor(Date.now() / 1000) - keptSince));
}

/** Requests per second over the last five seconds. */
export function currentRate(app: string): number {
  const series = trafficSeries(app, 6).slice(0, 5);
  return series.reduce((sum, point) => sum + point.requests, 0) / 5;
}
