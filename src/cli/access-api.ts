import { createInterface } from 'node:readline';
import { callApi } from '../api/index.js';
import { PaasmakerError } from '../shared/errors.js';
import { runningPlatform } from './running-platform.js';

/**
 * One request of the user, role, workspace and token commands, to the
 * running platform (they live in its state; the socket's owner may do
 * everything). With none running, how to start one.
 */
export function accessApi<T>(method: string, path: string, body?: unknown): Promise<T> {
  const socket = runningPlatform();
  if (!socket) throw new PaasmakerError('PLATFORM_UNREACHABLE', 'no platform runs: users, roles, workspaces and tokens are kept by it', { hint: 'start one with: paasmaker daemon start' });
  return callApi<T>(socket, method, path, body, 30_000);
}

export const segment = encodeURIComponent;

/** A password: the first line of stdin (--password-stdin), or typed twice on a terminal without echo. */
export async function readPassword(fromStdin: boolean | undefined): Promise<string> {
  if (fromStdin || !process.stdin.isTTY) {
    let text = '';
    for await (const chunk of process.stdin) text += chunk;
    const line = text.split(/\r?\n/)[0] ?? '';
    if (line === '') throw new PaasmakerError('USAGE', 'no password on stdin', { hint: 'echo "$PASSWORD" | paasmaker user passwd NAME --password-stdin' });
    return line;
  }
  const first = await typed('Password: ');
  const again = await typed('Again: ');
  if (first !== again) throw new PaasmakerError('USAGE', 'the two passwords differ', { hint: 'nothing was changed: try again' });
  return first;
}

/** One line typed on the terminal, not echoed. */
function typed(prompt: string): Promise<string> {
  return new Promise((resolve) => {
    const reader = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const output = reader as unknown as { _writeToOutput: (text: string) => void };
    process.stderr.write(prompt);
    output._writeToOutput = () => undefined;
    reader.question('', (answer) => {
      reader.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}

/** A time in state (epoch ms) as a short local date and time. */
export function shortTime(at: number | null): string {
  if (at === null) return '-';
  return new Date(at).toISOString().replace('T', ' ').slice(0, 16);
}
