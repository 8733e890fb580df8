import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { findBinary } from '../../src/services/binaries.js';

/** Whether tmux is here: the terminal UI's tests need a real terminal. */
export const haveTmux = findBinary(['tmux']) !== undefined;

export interface Terminal {
  /** What the terminal shows now, one line per row. */
  screen: () => string;
  /** Keys as tmux send-keys names them ("q", "PageUp", "Escape", "Down"); -l sends text as typed. */
  keys: (...keys: string[]) => void;
  type: (text: string) => void;
  /** Ends the terminal and what runs in it. */
  close: () => void;
}

let opened = 0;

/**
 * A shell command in its own tmux server (its socket in home, one per
 * terminal: a new one never meets the server of the last, still exiting
 * after kill-server), in a terminal of width × height.
 */
export function openTerminal(home: string, name: string, command: string, size: { width: number; height: number } = { width: 120, height: 40 }): Terminal {
  const socket = join(home, `tmux-${++opened}.sock`);
  const session = `${name}-${process.pid}`;
  const tmux = (...args: string[]) => execFileSync('tmux', ['-S', socket, ...args], { encoding: 'utf8' });
  tmux('new-session', '-d', '-s', session, '-x', String(size.width), '-y', String(size.height), command);
  return {
    screen: () => tmux('capture-pane', '-p', '-t', session),
    keys: (...keys) => void tmux('send-keys', '-t', session, ...keys),
    type: (text) => void tmux('send-keys', '-t', session, '-l', text),
    close: () => {
      try {
        tmux('kill-server');
      } catch {
        // already gone
      }
    },
  };
}
