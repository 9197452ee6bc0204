import type { IncomingMessage, ServerResponse } from 'node:http';
import { PROTOCOL_VERSION_META_KEY, SUPPORTED_PROTOCOL_VERSIONS, WebStandardStreamableHTTPServerTransport, type AuthInfo, type Server } from '@modelcontextprotocol/server';

/**
 * Whether a POST is certainly 2025-era (legacy) traffic: a 2025-era (or absent, as on initialize)
 * MCP-Protocol-Version header and no 2026-07-28 `_meta` envelope. Anything else goes to the SDK's
 * createMcpHandler, which classifies it properly; this only skips that classification (and its
 * request cloning) for the traffic most agents send today.
 */
export function isPlainLegacyPost(req: IncomingMessage, body: unknown): boolean {
  if (req.method !== 'POST') return false;
  const version = req.headers['mcp-protocol-version'];
  if (version !== undefined && (typeof version !== 'string' || !SUPPORTED_PROTOCOL_VERSIONS.includes(version))) return false;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const meta = (body as { params?: { _meta?: Record<string, unknown> } }).params?._meta;
  return !(meta && PROTOCOL_VERSION_META_KEY in meta);
}

/**
 * Serves one legacy request the established stateless way: a fresh server and a fresh
 * Streamable HTTP transport (no session id), answering with plain JSON, both closed afterwards.
 */
export async function serveLegacyPost(req: IncomingMessage, res: ServerResponse, body: unknown, server: Server, authInfo: AuthInfo): Promise<void> {
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  await server.connect(transport);
  try {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string') headers.set(name, value);
      else if (Array.isArray(value)) headers.set(name, value.join(', '));
    }
    const response = await transport.handleRequest(new Request(`http://localhost${req.url ?? '/mcp'}`, { method: 'POST', headers }), { parsedBody: body, authInfo });
    const text = await response.text();
    res.writeHead(response.status, Object.fromEntries(response.headers)).end(text);
  } finally {
    await server.close();
  }
}
