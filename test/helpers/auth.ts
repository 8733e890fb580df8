import { request } from 'node:http';
import { runCli } from './cli.js';

/**
 * A user of the platform of `home` with a role (added when missing), and a
 * new API token of theirs, both made with the CLI as a user would.
 */
export async function userToken(home: string, user: string, role?: string, workspace?: string): Promise<string> {
  const users = await runCli(['user', 'list', '--json'], { home });
  if (users.exitCode !== 0) throw new Error(`paasmaker user list: ${users.stderr}`);
  if (!(JSON.parse(users.stdout) as Array<{ name: string }>).some((row) => row.name === user)) {
    const added = await runCli(['user', 'add', user, ...(role ? ['--role', role] : []), ...(workspace ? ['--workspace', workspace] : [])], { home });
    if (added.exitCode !== 0) throw new Error(`paasmaker user add: ${added.stderr}`);
  }
  const created = await runCli(['token', 'create', '--user', user, '--json'], { home });
  if (created.exitCode !== 0) throw new Error(`paasmaker token create: ${created.stderr}`);
  return (JSON.parse(created.stdout) as { token: string }).token;
}

export interface TcpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

/** One request to the API's TCP listener (a connection of its own), as a browser or curl sends it. */
export function tcpRequest(port: number, method: string, path: string, options: { body?: unknown; headers?: Record<string, string>; token?: string } = {}): Promise<TcpAnswer> {
  return new Promise((resolve, reject) => {
    const text = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = {
      host: `127.0.0.1:${port}`,
      ...(text === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) }),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    };
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      let answer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (answer += chunk));
      res.on('end', () => {
        let json: unknown;
        try {
          json = answer ? JSON.parse(answer) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode!, headers: res.headers, text: answer, json });
      });
    });
    req.on('error', reject);
    req.end(text);
  });
}

/** The session id a Set-Cookie header sets ("paasmaker_session=…"), as a Cookie header value. */
export function sessionCookieOf(answer: TcpAnswer): string {
  const set = ([] as string[]).concat(answer.headers['set-cookie'] ?? []);
  const cookie = set.find((line) => line.startsWith('paasmaker_session='));
  if (!cookie) throw new Error(`no session cookie in ${JSON.stringify(answer.headers)}`);
  return cookie.split(';')[0]!;
}
