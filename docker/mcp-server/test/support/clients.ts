import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

/** The three client kinds agents use today; all must work against the same endpoint. */
export type ClientKind = 'sdk-v1 (2025-11-25)' | 'sdk-v2 legacy (2025-11-25)' | 'sdk-v2 modern (2026-07-28)';
export const CLIENT_KINDS: ClientKind[] = ['sdk-v1 (2025-11-25)', 'sdk-v2 legacy (2025-11-25)', 'sdk-v2 modern (2026-07-28)'];

export interface ConnectedClient {
  listTools(): Promise<{ tools: { name: string; inputSchema: unknown; outputSchema?: unknown; annotations?: unknown; title?: string }[] }>;
  callTool(name: string, args: Record<string, unknown>): Promise<ToolResult>;
  protocolVersion(): string | undefined;
  close(): Promise<void>;
}

export interface ToolResult {
  isError?: boolean;
  content: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
}

/** An official SDK client of `kind`, connected to `mcpUrl`; without a token (a server with AUTH_MODE=none) it sends none. */
export async function connect(kind: ClientKind, mcpUrl: string, token?: string): Promise<ConnectedClient> {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const requestInit = { headers };
  if (kind === 'sdk-v1 (2025-11-25)') {
    const client = new ClientV1({ name: 'e2e-v1', version: '1.0.0' });
    const transport = new TransportV1(new URL(mcpUrl), { requestInit });
    await client.connect(transport);
    return {
      listTools: () => client.listTools() as never,
      callTool: (name, args) => client.callTool({ name, arguments: args }) as Promise<ToolResult>,
      protocolVersion: () => transport.protocolVersion,
      close: () => client.close(),
    };
  }
  const client = new ClientV2({ name: 'e2e-v2', version: '1.0.0' }, kind === 'sdk-v2 modern (2026-07-28)' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {});
  const transport = new TransportV2(new URL(mcpUrl), { requestInit });
  await client.connect(transport);
  return {
    listTools: () => client.listTools() as never,
    callTool: (name, args) => client.callTool({ name, arguments: args }) as Promise<ToolResult>,
    protocolVersion: () => (client as unknown as { getNegotiatedProtocolVersion?: () => string }).getNegotiatedProtocolVersion?.() ?? transport.protocolVersion,
    close: () => client.close(),
  };
}
