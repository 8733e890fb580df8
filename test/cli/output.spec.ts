import { describe, expect, it } from 'vitest';
import { announceIfSlow, signalExit } from '../../src/cli/output.js';

describe('the command line output helpers', () => {
  it('announces a step only when it takes longer than it should, and once', async () => {
    const said: string[] = [];
    const slow = new Promise<string>((resolveSlow) => setTimeout(() => resolveSlow('done'), 120));
    expect(await announceIfSlow(slow, () => said.push('loading…'), 30)).toBe('done');
    expect(said).toEqual(['loading…']);
    expect(await announceIfSlow(Promise.resolve(7), () => said.push('never'), 30)).toBe(7);
    await new Promise((resolveWait) => setTimeout(resolveWait, 60));
    expect(said).toEqual(['loading…']);
  });

  it('gives a signal the exit code shells and compose report', () => {
    expect([signalExit('SIGINT'), signalExit('SIGTERM'), signalExit('SIGHUP')]).toEqual([130, 143, 129]);
  });
});
