/** Traffic of one instance type during one tick. */
export interface TrafficSample {
  app: string;
  instance: string;
  requests: number;
  /** Responses by class: 1xx … 5xx (index 1..5); [0] counts requests that got no response. */
  statuses: [number, number, number, number, number, number];
  bytesIn: number;
  bytesOut: number;
  /** Milliseconds, from a bounded sample of the tick's requests. */
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

const MAX_SAMPLES = 2048;

class Counter {
  requests = 0;
  statuses: TrafficSample['statuses'] = [0, 0, 0, 0, 0, 0];
  bytesIn = 0;
  bytesOut = 0;
  latencies: number[] = [];
  seen = 0;
}

/**
 * Counts requests in memory: a few integer additions per request, never I/O.
 * `drain()` hands over one tick's numbers and starts the next.
 */
export class TrafficCounters {
  private counters = new Map<string, Counter>();
  /** The counter of the last request's app and instance (most requests follow one of the same): no key made for them. */
  private lastApp: string | undefined;
  private lastInstance: string | undefined;
  private last: Counter | undefined;

  record(app: string, instance: string, status: number, bytesIn: number, bytesOut: number, latencyMs: number): void {
    let counter = app === this.lastApp && instance === this.lastInstance ? this.last : undefined;
    if (!counter) {
      const key = `${app}\0${instance}`;
      counter = this.counters.get(key);
      if (!counter) this.counters.set(key, (counter = new Counter()));
      this.lastApp = app;
      this.lastInstance = instance;
      this.last = counter;
    }
    counter.requests++;
    counter.statuses[status >= 100 && status < 600 ? Math.floor(status / 100) : 0]++;
    counter.bytesIn += bytesIn;
    counter.bytesOut += bytesOut;
    // Reservoir sampling keeps the percentile sample bounded under any load.
    counter.seen++;
    if (counter.latencies.length < MAX_SAMPLES) counter.latencies.push(latencyMs);
    else {
      const slot = Math.floor(Math.random() * counter.seen);
      if (slot < MAX_SAMPLES) counter.latencies[slot] = latencyMs;
    }
  }

  drain(): TrafficSample[] {
    const samples: TrafficSample[] = [];
    for (const [key, counter] of this.counters) {
      const [app, instance] = key.split('\0') as [string, string];
      const sorted = counter.latencies.sort((a, b) => a - b);
      const pick = (q: number) => (sorted.length === 0 ? null : Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 100) / 100);
      samples.push({ app, instance, requests: counter.requests, statuses: counter.statuses, bytesIn: counter.bytesIn, bytesOut: counter.bytesOut, p50: pick(0.5), p90: pick(0.9), p99: pick(0.99) });
    }
    this.counters = new Map();
    this.last = this.lastApp = this.lastInstance = undefined;
    return samples;
  }
}
