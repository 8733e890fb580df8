import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tcpRequest, userToken } from '../helpers/auth.js';
import { bin, cliEnv, examples, getByHost, psJson, runCli, stopDaemonAndRemove, tempHome, until } from '../helpers/cli.js';

// `paasmaker mcp` as an agent client runs it: the SDK's own client spawns
// bin/paasmaker mcp over stdio against a running daemon of a temporary home.

let home: string;
let removeHome: () => void;
let proxyPort: number;
let apiPort: number;
let chatty: string;
const clients: Client[] = [];

/** An MCP client connected to `paasmaker mcp ARGS` (extra environment: a token). */
async function connect(args: string[] = [], env: Record<string, string> = {}): Promise<Client> {
  const environment = Object.fromEntries(Object.entries(cliEnv(home, env)).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const transport = new StdioClientTransport({ command: bin, args: ['mcp', ...args], env: environment, stderr: 'pipe' });
  const client = new Client({ name: 'paasmaker-test', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return client;
}

/** A tool's call: its text, and whether it is an error result. */
async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<{ text: string; isError: boolean }> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  return { text: result.content.map((part) => (part.type === 'text' ? part.text : '')).join(''), isError: result.isError === true };
}

beforeAll(async () => {
  ({ home, cleanup: removeHome } = tempHome());
  const started = await runCli(['daemon', 'start', '--api-port', '0'], { home });
  expect(started.exitCode, started.stderr).toBe(0);
  ({ proxyPort, apiPort } = JSON.parse((await runCli(['daemon', 'status', '--json'], { home })).stdout) as { proxyPort: number; apiPort: number });
  const up = await runCli(['up', '-d', join(examples, 'hello-node')], { home });
  expect(up.exitCode, up.stderr).toBe(0);
  // An app that writes 1000 long lines as it starts: more than a tool result carries.
  chatty = mkdtempSync(join(tmpdir(), 'pm-chatty-'));
  writeFileSync(join(chatty, 'paasmaker.yml'), 'application:\n  name: chatty\ninstances:\n  web:\n    command: node chatty.js\n    crons:\n      - {name: tidy, schedule: "0 0 1 1 *", command: "echo tidied the cache"}\n');
  writeFileSync(join(chatty, 'chatty.js'), "for (let i = 0; i < 1000; i++) console.log(`line ${i} ${'x'.repeat(100)}`);\nrequire('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT, '127.0.0.1');\n");
  const upChatty = await runCli(['up', '-d', chatty], { home });
  expect(upChatty.exitCode, upChatty.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  for (const client of clients) await client.close().catch(() => undefined);
  if (home) await stopDaemonAndRemove(home, removeHome);
  if (chatty) rmSync(chatty, { recursive: true, force: true });
});

describe('paasmaker mcp over stdio', () => {
  it('lists its tools, each with a description and an input schema, and the apps\' resources', async () => {
    const client = await connect();
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(
      ['app_status', 'describe_database', 'get_env', 'get_logs', 'job_log', 'list_apps', 'list_jobs', 'manifest', 'query_database', 'recent_requests', 'restart', 'run_cron', 'scale', 'traffic'].sort(),
    );
    for (const tool of tools) {
      expect(tool.description?.length ?? 0, tool.name).toBeGreaterThan(40);
      expect(tool.inputSchema.type).toBe('object');
    }
    expect(tools.find((tool) => tool.name === 'query_database')!.description).toMatch(/READ-ONLY/);
    expect(tools.find((tool) => tool.name === 'query_database')!.annotations?.readOnlyHint).toBe(true);
    const { resources } = await client.listResources();
    expect(resources.map((resource) => resource.uri)).toEqual(expect.arrayContaining(['paasmaker://apps/hello-node/manifest', 'paasmaker://apps/hello-node/logs']));
  });

  it('list_apps shows the running example; app_status its process with a pid and a port', async () => {
    const client = await connect();
    const listed = await call(client, 'list_apps');
    expect(listed.isError).toBe(false);
    expect(JSON.parse(listed.text)).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'hello-node', state: 'running', url: expect.stringContaining('hello-node.localhost') })]));
    const status = await call(client, 'app_status', { app: 'hello-node' });
    const processes = (JSON.parse(status.text) as { processes: Array<{ process: string; state: string; pid: number; port: number }> }).processes;
    expect(processes).toEqual([expect.objectContaining({ process: 'web.0', state: 'running', pid: expect.any(Number), port: expect.any(Number) })]);
  });

  it("get_logs returns the app's lines, filtered by grep; an unknown app is an error result with the API's message and hint", async () => {
    const client = await connect();
    const logs = await until(async () => {
      const result = await call(client, 'get_logs', { app: 'hello-node', lines: 50 });
      return result.text.includes('listening on http://127.0.0.1:') ? result : undefined;
    }, 20_000, 'the listening line in get_logs');
    expect(logs.isError).toBe(false);
    expect(logs.text).toMatch(/web\.0 \| listening on http:\/\/127\.0\.0\.1:\d+\//);
    const none = await call(client, 'get_logs', { app: 'hello-node', grep: 'no-such-line-anywhere' });
    expect(none.text).toBe('no log lines of hello-node match');
    const unknown = await call(client, 'get_logs', { app: 'nosuch' });
    expect(unknown.isError).toBe(true);
    expect(unknown.text).toMatch(/^APP_NOT_FOUND: no app named "nosuch"\nhint: /);
    const resource = await client.readResource({ uri: 'paasmaker://apps/hello-node/logs' });
    expect((resource.contents[0] as { text: string }).text).toContain('listening on');
  });

  it('a result longer than a model should read is cut to about 20 000 characters with a note, keeping the newest log lines', async () => {
    const client = await connect();
    const logs = await until(async () => {
      const result = await call(client, 'get_logs', { app: 'chatty', lines: 1000 });
      return result.text.includes('line 999 ') ? result : undefined;
    }, 20_000, 'the last line of chatty');
    expect(logs.text.length).toBeLessThan(20_200);
    expect(logs.text).toMatch(/^\[truncated: the older \d+ characters are not shown; ask for fewer lines, a later since, or a grep\]\n/);
    expect(logs.text.split('\n').at(-1)).toMatch(/web\.0 \| line 999 x{100}$/);
    const bad = await call(client, 'get_logs', { app: 'chatty', since: 'yesterday' });
    expect(bad).toEqual({ isError: true, text: 'USAGE: since: "yesterday" is neither a duration nor an ISO time\nhint: for example 30s, 10m, 1h, 2d, or 2026-05-01T12:00:00Z' });
  });

  it('recent_requests finds a request through the router by status; manifest and get_env read the app', async () => {
    const client = await connect();
    await getByHost(proxyPort, 'hello-node.localhost', '/from-the-test?x=1');
    const requests = await until(async () => {
      const result = await call(client, 'recent_requests', { app: 'hello-node', status: '2xx', path: 'from-the-test' });
      return result.text.startsWith('[') ? result : undefined;
    }, 10_000, 'the request in the inspector');
    expect(JSON.parse(requests.text)).toEqual([expect.objectContaining({ method: 'GET', path: '/from-the-test?x=1', status: 200 })]);
    const traffic = await until(async () => {
      const rows = JSON.parse((await call(client, 'traffic', { app: 'hello-node' })).text.replace(/^no traffic.*/, '[]')) as Array<{ requests: number; '2xx': number }>;
      return rows.find((row) => row['2xx'] >= 1);
    }, 15_000, 'the request in traffic');
    expect(traffic.requests).toBeGreaterThanOrEqual(1);
    expect((await call(client, 'recent_requests', { app: 'hello-node', status: '5xx' })).text).toMatch(/^no requests of hello-node recorded that match/);
    const manifest = JSON.parse((await call(client, 'manifest', { app: 'hello-node' })).text) as { application: { name: string }; instances: Array<{ name: string; command: string }> };
    expect(manifest.application.name).toBe('hello-node');
    expect(manifest.instances).toEqual([expect.objectContaining({ name: 'web', command: 'node server.js' })]);
    expect((await call(client, 'get_env', { app: 'hello-node' })).text).toContain('GREETING=Hello from Paasmaker');
  });

  it('restart restarts the app: a new process with another pid serves', async () => {
    const client = await connect();
    const before = (await psJson(home)).find((row) => row.app === 'hello-node' && row.state === 'running')!.pid;
    const restarted = await call(client, 'restart', { app: 'hello-node' });
    expect(restarted).toEqual({ text: 'restarted hello-node: the new processes are ready', isError: false });
    const after = await until(async () => (await psJson(home)).find((row) => row.app === 'hello-node' && row.state === 'running' && row.pid !== before)?.pid, 20_000, 'a new pid');
    expect(after).not.toBe(before);
  });

  it('scale changes how many processes run; run_cron runs a cron as a job that list_jobs and job_log show', async () => {
    const client = await connect();
    expect(await call(client, 'scale', { app: 'chatty', instance: 'web', quantity: 2 })).toEqual({ isError: false, text: 'scaled chatty/web from 1 to 2' });
    await until(async () => (await psJson(home)).filter((row) => row.app === 'chatty' && row.state === 'running').length === 2 || undefined, 30_000, 'two chatty processes');
    expect((await call(client, 'scale', { app: 'chatty', instance: 'web', quantity: 1 })).text).toBe('scaled chatty/web from 2 to 1');
    expect((await call(client, 'scale', { app: 'chatty', instance: 'nosuch', quantity: 1 })).text).toMatch(/^INSTANCE_NOT_FOUND: /);

    expect(JSON.parse((await call(client, 'app_status', { app: 'chatty' })).text).crons).toEqual([expect.objectContaining({ name: 'tidy', schedule: '0 0 1 1 *', target: 'echo tidied the cache', lastResult: null })]);
    const ran = await call(client, 'run_cron', { app: 'chatty', name: 'tidy', wait: 30 });
    expect(ran.text).toMatch(/^cron tidy of chatty \(job ([\w-]+)\): success/);
    const job = /\(job ([\w-]+)\)/.exec(ran.text)![1]!;
    const jobs = JSON.parse((await call(client, 'list_jobs', { app: 'chatty' })).text) as Array<{ id: string; state: string }>;
    expect(jobs).toEqual(expect.arrayContaining([expect.objectContaining({ id: job, state: 'success' })]));
    expect((await call(client, 'job_log', { id: job })).text).toMatch(new RegExp(`^== ${job} cron tidy: success — exit code 0 in \\d+ ms`));
    expect((await call(client, 'run_cron', { app: 'chatty', name: 'nosuch' })).text).toMatch(/^CRON_NOT_FOUND: /);
  });

  it('--read-only offers no restart, scale or run_cron, and a call of restart changes nothing', async () => {
    const client = await connect(['--read-only']);
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names).toContain('list_apps');
    expect(names).toContain('query_database');
    for (const name of ['restart', 'scale', 'run_cron']) expect(names).not.toContain(name);
    const before = (await psJson(home)).find((row) => row.app === 'hello-node' && row.state === 'running')!.pid;
    const refused = await call(client, 'restart', { app: 'hello-node' });
    expect(refused.isError).toBe(true);
    expect(refused.text).toMatch(/restart/);
    expect((await psJson(home)).find((row) => row.app === 'hello-node' && row.state === 'running')!.pid).toBe(before);
  });

  it("a viewer's token (--token) sees the apps but cannot restart: the API's FORBIDDEN comes back as the tool's error", async () => {
    const token = await userToken(home, 'vera', 'viewer');
    const client = await connect(['--token', token]);
    expect(JSON.parse((await call(client, 'list_apps')).text)).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'hello-node' })]));
    const before = (await psJson(home)).find((row) => row.app === 'hello-node' && row.state === 'running')!.pid;
    const refused = await call(client, 'restart', { app: 'hello-node' });
    expect(refused.isError).toBe(true);
    expect(refused.text).toMatch(/^FORBIDDEN: user "vera" lacks the permission APPLICATION_DEPLOY in workspace "default"\nhint: /);
    expect((await psJson(home)).find((row) => row.app === 'hello-node' && row.state === 'running')!.pid).toBe(before);
    // The token from the environment works the same; a revoked or wrong one is refused with the API's word.
    const fromEnv = await connect([], { PAASMAKER_TOKEN: token });
    expect((await call(fromEnv, 'restart', { app: 'hello-node' })).text).toMatch(/^FORBIDDEN: /);
    const wrong = await connect(['--token', 'pm_wrong']);
    expect(await call(wrong, 'list_apps')).toEqual({ isError: true, text: expect.stringMatching(/^UNAUTHORIZED: this API token is unknown or revoked/) });
  });
});

describe('paasmaker mcp --print-config', () => {
  it('prints an mcpServers entry whose command, run with its args, is a working MCP server', async () => {
    const printed = await runCli(['mcp', '--print-config'], { home });
    expect(printed.exitCode, printed.stderr).toBe(0);
    const config = JSON.parse(printed.stdout) as { mcpServers: { paasmaker: { command: string; args: string[]; env?: Record<string, string> } } };
    const entry = config.mcpServers.paasmaker;
    expect(entry.command).toBe(bin);
    expect(entry.args).toEqual(['mcp']);
    expect(entry.env).toEqual({ PAASMAKER_HOME: home });
    expect(printed.stderr).toContain(`claude mcp add -e PAASMAKER_HOME=${home} paasmaker -- ${bin} mcp`);
    // The entry as a client starts it: only its command, args and env.
    const transport = new StdioClientTransport({ command: entry.command, args: entry.args, env: { ...entry.env!, PATH: process.env.PATH! }, stderr: 'pipe' });
    const client = new Client({ name: 'pasted', version: '1.0.0' });
    await client.connect(transport);
    clients.push(client);
    expect(JSON.parse(((await client.callTool({ name: 'list_apps' })) as CallToolResult).content.map((part) => (part.type === 'text' ? part.text : '')).join('')).map((app: { name: string }) => app.name)).toContain('hello-node');
  });
});

describe("the daemon's /mcp (streamable HTTP)", () => {
  it("acts as the bearer token's user: a developer restarts, a viewer is refused; no token or a foreign Origin gets no MCP at all", async () => {
    const viaHttp = async (token: string, query = '') => {
      const transport = new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${apiPort}/mcp${query}`), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
      const client = new Client({ name: 'paasmaker-http-test', version: '1.0.0' });
      await client.connect(transport);
      clients.push(client);
      return client;
    };
    const developer = await viaHttp(await userToken(home, 'dev', 'developer'));
    expect((await developer.listTools()).tools.map((tool) => tool.name)).toContain('restart');
    expect(JSON.parse((await call(developer, 'list_apps')).text)).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'hello-node', state: 'running' })]));
    const before = (await psJson(home)).find((row) => row.app === 'hello-node' && row.state === 'running')!.pid;
    expect(await call(developer, 'restart', { app: 'hello-node' })).toEqual({ isError: false, text: 'restarted hello-node: the new processes are ready' });
    await until(async () => (await psJson(home)).find((row) => row.app === 'hello-node' && row.state === 'running' && row.pid !== before), 20_000, 'a new pid');

    const viewer = await viaHttp(await userToken(home, 'vic', 'viewer'));
    expect((await call(viewer, 'restart', { app: 'hello-node' })).text).toMatch(/^FORBIDDEN: user "vic" lacks the permission APPLICATION_DEPLOY/);
    const readOnly = await viaHttp(await userToken(home, 'dev', 'developer'), '?read_only=true');
    expect((await readOnly.listTools()).tools.map((tool) => tool.name)).not.toContain('restart');

    const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'x', version: '1' } } };
    const accept = { accept: 'application/json, text/event-stream' };
    const anonymous = await tcpRequest(apiPort, 'POST', '/mcp', { body: initialize, headers: accept });
    expect(anonymous.status).toBe(401);
    expect(anonymous.json).toMatchObject({ code: 'UNAUTHORIZED', error: 'the MCP endpoint needs an API token' });
    const revoked = await tcpRequest(apiPort, 'POST', '/mcp', { body: initialize, headers: accept, token: 'pm_nosuch' });
    expect(revoked.status).toBe(401);
    const foreign = await tcpRequest(apiPort, 'POST', '/mcp', { body: initialize, headers: { ...accept, origin: 'https://evil.example' }, token: await userToken(home, 'dev', 'developer') });
    expect(foreign.status).toBe(403);
    expect(foreign.json.error).toMatch(/Origin "https:\/\/evil\.example" is not allowed/);
  });
});
