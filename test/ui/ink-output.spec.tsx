import React from 'react';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { composeFrame, type InkOutput, measuredTexts, useLighterFrames } from '../../src/ui/ink-output.js';

// ink's own Output (build/output.js), loaded the way useLighterFrames finds it; its get() kept
// before anything replaces it, as the reference every frame is compared with.
type OutputClass = new (options: { width: number; height: number }) => InkOutput & {
  write(x: number, y: number, text: string, options: { transformers: Array<(line: string, index: number) => string> }): void;
  clip(clip: object): void;
  unclip(): void;
  get(): { output: string; height: number };
};
const { default: Output } = (await import(new URL('output.js', import.meta.resolve('ink')).href)) as { default: OutputClass };
const inkGet = Output.prototype.get;

/** A small deterministic generator, so a failing frame can be made again. */
function random(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
}

const PIECES = [
  'GET /api/items/42 200 12.3 ms',
  'web.0       ',
  ' | ',
  '\x1b[31m', '\x1b[39m', '\x1b[1m', '\x1b[22m', '\x1b[2m', '\x1b[7m', '\x1b[27m', '\x1b[0m', '\x1b[1;31m', '\x1b[38;5;123m', '\x1b[38;2;10;20;30m', '\x1b[48;5;4m', '\x1b[49m', '\x1b[4m', '\x1b[24m',
  '─────', '● running', 'café', '中文', '👍', '\t', 'a\x01b', '\x1b]8;;https://example.com\x07link\x1b]8;;\x07', '\x1b[2J', '\x1b[', '\x1b[12',
  'x', ' ', '  padded  ',
];

function randomFrame(next: () => number): InstanceType<OutputClass> {
  const width = 5 + Math.floor(next() * 60);
  const height = 1 + Math.floor(next() * 12);
  const output = new Output({ width, height });
  const pick = <T,>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const count = Math.floor(next() * 10);
  for (let op = 0; op < count; op++) {
    const roll = next();
    if (roll < 0.12) {
      output.clip({ x1: Math.floor(next() * width), x2: Math.floor(next() * width * 1.5), ...(next() < 0.5 ? { y1: Math.floor(next() * height), y2: Math.floor(next() * height * 1.5) } : {}) });
    } else if (roll < 0.2) {
      output.unclip();
    } else {
      const lines = 1 + Math.floor(next() * 4);
      const text = Array.from({ length: lines }, () => Array.from({ length: Math.floor(next() * 6) }, () => pick(PIECES)).join('')).join('\n');
      const transformers = next() < 0.3 ? [(line: string) => `\x1b[32m${line}\x1b[39m`] : [];
      output.write(Math.floor(next() * width) - 2, Math.floor(next() * height) - 1, text, { transformers });
    }
  }
  return output;
}

describe('the terminal UI’s frames (ink’s Output made with shared cells)', () => {
  it('writes the same text as ink for thousands of random frames: colours, clips, wide characters, links, stray escapes', () => {
    const next = random(20261130);
    for (let n = 0; n < 3000; n++) {
      const frame = randomFrame(next);
      const expected = inkGet.call(frame);
      const actual = composeFrame(frame);
      if (actual.output !== expected.output) throw new Error(`frame ${n} differs:\n${JSON.stringify(expected.output)}\n${JSON.stringify(actual.output)}`);
      expect(actual.height).toBe(expected.height);
    }
  });

  it('takes ink’s place in a real render, which then draws the frame ink drew', async () => {
    const { Box, Text, render } = await import('ink');
    const draw = async (): Promise<string> => {
      const stdout = Object.assign(new PassThrough(), { columns: 60, rows: 10, isTTY: true });
      let written = '';
      stdout.on('data', (chunk: Buffer) => (written += chunk.toString()));
      const app = render(
        <Box flexDirection="column" borderStyle="round">
          <Text color="green" bold>
            chatty <Text dimColor>http://chatty.localhost/</Text>
          </Text>
          <Text wrap="truncate-end">
            <Text color="cyan">{'web.0'.padEnd(12)}</Text>
            {' | GET /api/items/1 200 12.3 ms - user agent Mozilla/5.0 (X11; Linux x86_64)'}
          </Text>
        </Box>,
        { stdout: stdout as unknown as NodeJS.WriteStream, debug: true, patchConsole: false },
      );
      app.unmount();
      await app.waitUntilExit();
      return written;
    };
    const before = await draw();
    expect(await useLighterFrames()).toBe(true);
    expect(Output.prototype.get).not.toBe(inkGet);
    const after = await draw();
    expect(after).toContain('web.0');
    expect(after).toBe(before);
  });
  it('keeps ink’s cache of text sizes to a few screens under a stream of new lines, where ink kept every line it ever drew', async () => {
    expect(await useLighterFrames()).toBe(true);
    const { Box, Text, render } = await import('ink');
    const stdout = Object.assign(new PassThrough(), { columns: 100, rows: 40, isTTY: true });
    stdout.resume();
    const page = (from: number) => (
      <Box flexDirection="column">
        {Array.from({ length: 30 }, (_, i) => (
          <Text key={from + i} wrap="truncate-end">{`web.0        | GET /api/items/${from + i} 200 12.3 ms`}</Text>
        ))}
      </Box>
    );
    const app = render(page(0), { stdout: stdout as unknown as NodeJS.WriteStream, debug: true, patchConsole: false });
    let most = 0;
    for (let from = 30; from < 9000; from += 30) {
      app.rerender(page(from));
      most = Math.max(most, measuredTexts() ?? 0);
    }
    app.unmount();
    await app.waitUntilExit();
    // The cache is ink's (it grows as ink lays out lines), and it never holds much more than the limit.
    expect(most).toBeGreaterThan(1000);
    expect(most).toBeLessThanOrEqual(2000 + 60);
  });
});
