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

/** Runs the terminal UI until q; resolves once it has left the screen. */
export async function runTui(feed: Feed, options: { color: boolean }): Promise<void> {
  // The alternate screen, as full-screen terminal programs do: the shell's scrollback stays as it was.
  process.stdout.write('\x1b[?1049h\x1b[H');
  try {
    const instance = render(<StackApp feed={feed} color={options.color} openUrl={openUrl} />, { exitOnCtrlC: false, patchConsole: true });
    await instance.waitUntilExit();
  } finally {
    process.stdout.write('\x1b[?1049l');
  }
}
