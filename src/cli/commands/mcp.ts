import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PaasmakerError } from '../../shared/errors.js';
import { executable } from '../../shared/executable.js';
import { defineCommand } from '../command.js';

type Options = { token?: string; readOnly?: boolean; printConfig?: boolean };

export default defineCommand<Options>({
  name: 'mcp',
  description: 'a Model Context Protocol server on stdin/stdout: coding agents see and drive the running apps, within your permissions',
  options: [
    { flags: '--token <token>', description: "act as this API token's user (default: PAASMAKER_TOKEN, else the local administrator over the socket); needs the daemon's --api-port" },
    { flags: '--read-only', description: 'offer the tools that read only: no restart, scale or run_cron' },
    { flags: '--print-config', description: 'print the mcpServers entry for an agent client (Claude Code, Claude Desktop, Cursor, …) and exit' },
  ],
  examples: ['paasmaker mcp --print-config      the snippet to paste into an agent\'s configuration', 'paasmaker mcp --read-only         look, never change', 'claude mcp add paasmaker -- "$(command -v paasmaker)" mcp'],
  run: ({ options }) => mcp(options),
});

/** The command of this installation: the single executable itself, or the real path of the package's bin/paasmaker (a link, as npm link and npm -g make, resolved). */
export function commandPath(): string {
  if (executable()) return process.execPath;
  return realpathSync(fileURLToPath(new URL('../../../../bin/paasmaker', import.meta.url)));
}

/** The shell quoting of one word, for a command line to copy. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/** `paasmaker mcp --print-config`: the mcpServers entry (stdout, JSON) and where it goes (stderr). */
function printConfig(options: Options, token: string | undefined): number {
  const command = commandPath();
  const args = ['mcp', ...(options.readOnly ? ['--read-only'] : [])];
  // The server must reach the same platform: a PAASMAKER_HOME of this shell goes along, and a token as the environment (not an argument any ps shows).
  const env: Record<string, string> = {
    ...(process.env.PAASMAKER_HOME ? { PAASMAKER_HOME: process.env.PAASMAKER_HOME } : {}),
    ...(token ? { PAASMAKER_TOKEN: token } : {}),
  };
  const entry = { command, args, ...(Object.keys(env).length > 0 ? { env } : {}) };
  process.stdout.write(`${JSON.stringify({ mcpServers: { paasmaker: entry } }, null, 2)}\n`);
  const claude = ['claude', 'mcp', 'add', ...Object.entries(env).flatMap(([key, value]) => ['-e', `${key}=${value}`]), 'paasmaker', '--', command, ...args].map(shellWord).join(' ');
  process.stderr.write(
    [
      '',
      'Paste the entry into your agent client\'s configuration:',
      '  Claude Desktop: claude_desktop_config.json; Cursor: ~/.cursor/mcp.json or .cursor/mcp.json; Claude Code: .mcp.json in the project',
      'or, for Claude Code, run:',
      `  ${claude}`,
      '',
    ].join('\n'),
  );
  return 0;
}

/** `paasmaker mcp`: serves MCP on stdio until the client closes it. */
async function mcp(options: Options): Promise<number> {
  const token = options.token ?? (process.env.PAASMAKER_TOKEN || undefined);
  if (token !== undefined && !/^\S+$/.test(token)) throw new PaasmakerError('USAGE', 'the token is empty or holds spaces', { hint: 'a token is one word, pm_…: paasmaker token create makes one' });
  if (options.printConfig) return printConfig(options, options.token);
  const { tokenCaller } = await import('../../mcp/api.js');
  const { ownerCaller } = await import('../mcp-owner.js');
  const { createMcpServer } = await import('../../mcp/server.js');
  const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
  const version = (JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  const server = createMcpServer(token ? tokenCaller(token) : ownerCaller(), { readOnly: options.readOnly, actingAs: token ? 'the user of an API token' : 'the local administrator (the platform\'s owner)', version });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    // The client went away: stdin ends (the transport does not close itself then).
    process.stdin.once('end', () => resolve());
    process.stdin.once('close', () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close().catch(() => undefined);
  return 0;
}
