import { describe, expect, it } from 'vitest';
import { FramePacer, STREAM_FRAME_MS } from '../../src/ui/app.js';

// Which ticks (every 100 ms) of the terminal UI draw a frame: a flood of log lines
// costs two frames a second, anything else shows on the next tick.
describe('the terminal UI’s frame pacing', () => {
  it('draws the first frame, then the same one again only once a second', () => {
    const pacer = new FramePacer();
    expect(pacer.draw('screen', '0', 0)).toBe(true);
    for (let at = 100; at < 1000; at += 100) expect(pacer.draw('screen', '0', at)).toBe(false);
    expect(pacer.draw('screen', '0', 1000)).toBe(true);
  });

  it('shows a line after a quiet moment on the next tick', () => {
    const pacer = new FramePacer();
    pacer.draw('screen', '0', 0);
    expect(pacer.draw('screen', '1', 100)).toBe(true);
    // Quiet for a second (the once-a-second frame), then one more line: drawn at once…
    expect(pacer.draw('screen', '1', 1100)).toBe(true);
    expect(pacer.draw('screen', '2', 1200)).toBe(true);
    // …and the next, 100 ms behind it, is a stream: it waits.
    expect(pacer.draw('screen', '3', 1300)).toBe(false);
    expect(pacer.draw('screen', '4', 1200 + STREAM_FRAME_MS)).toBe(true);
  });

  it('draws a stream of lines twice a second, not ten times', () => {
    const pacer = new FramePacer();
    pacer.draw('screen', '0', 0);
    let drawn = 0;
    for (let tick = 1; tick <= 50; tick++) if (pacer.draw('screen', String(tick), tick * 100)) drawn++;
    // 5 s of lines at every tick: the first shows at once, then one frame per STREAM_FRAME_MS.
    expect(drawn).toBeGreaterThanOrEqual(Math.floor(5000 / STREAM_FRAME_MS));
    expect(drawn).toBeLessThanOrEqual(Math.floor(5000 / STREAM_FRAME_MS) + 2);
  });

  it('draws a change of anything but the logs at once, even while lines stream', () => {
    const pacer = new FramePacer();
    pacer.draw('screen', '0', 0);
    pacer.draw('screen', '1', 100);
    expect(pacer.draw('screen', '2', 200)).toBe(false);
    expect(pacer.draw('another screen', '3', 300)).toBe(true);
  });
});
