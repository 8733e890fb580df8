import { describe, expect, it } from 'vitest';
import { TrafficCounters } from '../../src/proxy/traffic.js';

describe('traffic counters', () => {
  it('count each answer in its class, and a request that got none apart, per app and instance type', () => {
    const counters = new TrafficCounters();
    for (const status of [101, 200, 204, 299, 301, 404, 499, 500, 502, 599, 0, 600, 99]) counters.record('shop', 'web', status, 10, 100, 1);
    counters.record('shop', 'api', 503, 1, 2, 3);
    const samples = counters.drain();
    expect(samples.map((sample) => `${sample.app}/${sample.instance}`)).toEqual(['shop/web', 'shop/api']);
    expect(samples[0]).toMatchObject({ requests: 13, statuses: [3, 1, 3, 1, 2, 3], bytesIn: 130, bytesOut: 1300 });
    expect(samples[1]).toMatchObject({ requests: 1, statuses: [0, 0, 0, 0, 0, 1], bytesIn: 1, bytesOut: 2, p50: 3, p90: 3, p99: 3 });
  });

  it('give the median, 90th and 99th percentile of the latencies, and start a fresh tick after a drain', () => {
    const counters = new TrafficCounters();
    // 1..100 ms, out of order.
    for (let i = 100; i >= 1; i--) counters.record('shop', 'web', 200, 0, 0, i + 0.004);
    const [sample] = counters.drain();
    expect(sample).toMatchObject({ requests: 100, p50: 51, p90: 91, p99: 100 });
    expect(counters.drain()).toEqual([]);
    counters.record('shop', 'web', 200, 0, 0, 7);
    expect(counters.drain()[0]).toMatchObject({ requests: 1, statuses: [0, 0, 1, 0, 0, 0], p50: 7 });
  });

  it('keep sampling latencies past the bounded sample: a slow stretch after a fast one shows in the median', () => {
    const counters = new TrafficCounters();
    for (let i = 0; i < 2048; i++) counters.record('shop', 'web', 200, 1, 1, 1);
    for (let i = 0; i < 20_000; i++) counters.record('shop', 'web', 200, 1, 1, 1000);
    const [sample] = counters.drain();
    // About 9% of a fair sample is fast: the median is the slow stretch's.
    expect(sample).toMatchObject({ requests: 22_048, bytesIn: 22_048, bytesOut: 22_048, p50: 1000, p90: 1000, p99: 1000 });
  });
  it('keep each app and instance type apart however their requests alternate, and count 100 as 1xx', () => {
    const counters = new TrafficCounters();
    for (const [app, instance] of [['shop', 'web'], ['blog', 'web'], ['blog', 'web'], ['shop', 'api'], ['shop', 'web']] as const) counters.record(app, instance, 200, 1, 1, 1);
    counters.record('shop', 'api', 100, 0, 0, 1);
    const counts = Object.fromEntries(counters.drain().map((sample) => [`${sample.app}/${sample.instance}`, sample.requests]));
    expect(counts).toEqual({ 'shop/web': 2, 'blog/web': 2, 'shop/api': 2 });
    counters.record('shop', 'api', 100, 0, 0, 1);
    expect(counters.drain()[0]!.statuses).toEqual([0, 1, 0, 0, 0, 0]);
  });
});
