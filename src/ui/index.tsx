import { spawn } from 'node:child_process';
import { render } from 'ink';
import { StackApp } from './app.js';
import type { Feed } from './model.js';

export { ApiFeed, EngineFeed } from './feeds.js';

/** Opens a URL with the desktop's opener; false when there is none (a server, a container). */
function openUrl(url: string): boolean {
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
    return Boolean(child.pid);
  } catch {
    return false;
  }
}

/**
 * What the platform writes to stderr while the UI holds the screen (the
 * router's or a watcher's problems): kept for the status line, as it
 * happens, instead of scribbling over the frame; written out again once the
 * UI has left the screen.
 */
function captureStderr(): { lines: string[]; release: () => void } {
  const lines: string[] = [];
  const original = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(line.trim());
    lines.splice(0, lines.length - 100);
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof process.stderr.write;
  return {
    lines,
    release: () => {
      process.stderr.write = original;
      if (lines.length > 0) process.stderr.write(`${lines.join('\n')}\n`);
    },
  };
}

/** Runs the terminal UI until q; resolves once it has left the screen. */
/** Runs the UI until q (`quit`) or Ctrl-C (`interrupted`: a foreground up then exits 130, as for SIGINT). */
export async function runTui(feed: Feed, options: { color: boolean }): Promise<'quit' | 'interrupted'> {
  // The alternate screen, as full-screen terminal programs do: the shell's scrollback stays as it was.
  process.stdout.write('\x1b[?1049h\x1b[H');
  const stderr = captureStderr();
  let how: 'quit' | 'interrupted' = 'quit';
  try {
    const instance = render(<StackApp feed={feed} color={options.color} openUrl={openUrl} warnings={() => stderr.lines} onInterrupt={() => (how = 'interrupted')} />, { exitOnCtrlC: false, patchConsole: true });
    await instance.waitUntilExit();
    return how;
  } finally {
    process.stdout.write('\x1b[?1049l');
    stderr.release();
  }
}
