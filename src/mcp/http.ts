import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { tokenCaller } from './api.js';
import { createMcpServer } from './server.js';

/**
 * One request of the streamable HTTP transport at /mcp of the API's TCP
 * listener, stateless: a server of its own per request, acting as the
 * bearer's user, whose every tool calls /api/v1 on this same port with that
 * bearer (the API checks each permission, as for any other client).
 */
export async function serveMcp(req: IncomingMessage, res: ServerResponse, options: { port: number; token: string; user: string; readOnly: boolean; version?: string }): Promise<void> {
  const server = createMcpServer(tokenCaller(options.token, options.port), { readOnly: options.readOnly, actingAs: `user "${options.user}" (by API token)`, version: options.version });
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on('close', () => {
    void transport.close().catch(() => undefined);
    void server.close().catch(() => undefined);
  });
  await server.connect(transport);
  await transport.handleRequest(req, res);
}
