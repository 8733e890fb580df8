import { setFlagsFromString } from 'node:v8';

/**
 * A foreground `up` (or `top`) runs for hours in the user's own `node`, whose
 * heap is sized for throughput: under a stream of log lines V8 grows the young
 * generation to 32 MB and lets the old one reach about twice what it holds
 * live before it collects, so `up` sat at 140–150 MB with 30 MB of live data.
 * From here on (set first thing, before the platform loads):
 * - the young generation stays at the size it starts with, 2 MB, since
 *   `--semi-space-growth-factor=1` makes each growth step a step to the same size;
 * - the old generation is collected once it has grown 15 % past what the
 *   last collection kept.
 * V8 reads both at each collection, so they take effect at run time, where a
 * flag such as --max-semi-space-size works only on the command line (the
 * daemon, which `daemon start` spawns, gets that one there).
 */
export function keepHeapSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString('--heap-growing-percent=15');
}
