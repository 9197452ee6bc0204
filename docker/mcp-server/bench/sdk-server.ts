/**
 * The comparison row of `npm run bench:mcp`: the same ten tools, backend, verifier and logging
 * served the SDK-idiomatic way (McpServer.registerTool, createMcpHandler for every request,
 * toNodeHandler, requireBearerAuth), so the bench shows in one run what the hand-written fast path
 * in src/http/app.ts buys. Bench-only: never bundled into the image.
 */
import { createServer } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer, OAuthError, OAuthErrorCode, requireBearerAuth, type AuthInfo } from '@modelcontextprotocol/server';
import { createAccessTokenVerifier, type Principal } from '../src/auth/verifier';
import { createBackend } from '../src/backend';
import { ChatError } from '../src/backend/types';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/log';
import { SERVER_INFO } from '../src/mcp/server-factory';
import { CHAT_TOOLS } from '../src/tools';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel, { service: 'phenom-chat-mcp-sdk-bench' });
  const backend = await createBackend(config.backendType, { env: process.env, log });
  const ours = createAccessTokenVerifier({ userPoolId: config.userPoolId, allowedClientIds: config.allowedClientIds, jwksUrl: config.jwksUrl, audiences: [config.resourceUrl] });
  const gate = requireBearerAuth({
    requiredScopes: [config.readScope],
    verifier: {
      async verifyAccessToken(token): Promise<AuthInfo> {
        const r = await ours.verify(token);
        if (!r.ok) throw new OAuthError(OAuthErrorCode.InvalidToken, r.description);
        return { token, clientId: r.principal.clientId, scopes: r.principal.scopes, expiresAt: r.principal.expiresAt, extra: { principal: r.principal } };
      },
    },
  });

  const handler = createMcpHandler(
    () => {
      const server = new McpServer(SERVER_INFO, { capabilities: { tools: { listChanged: false } } });
      for (const tool of CHAT_TOOLS) {
        server.registerTool(
          tool.name,
          { title: tool.title, description: tool.description, inputSchema: tool.inputSchema, outputSchema: tool.outputSchema, annotations: tool.annotations },
          async (args: unknown, ctx) => {
            const started = performance.now();
            const info = ctx.http?.authInfo;
            const principal = info?.extra?.principal as Principal;
            const canModerate = info?.scopes.includes(config.moderateScope) ?? false;
            if (tool.access === 'moderate' && !canModerate) return { content: [{ type: 'text', text: `${tool.name} needs ${config.moderateScope}` }], isError: true };
            try {
              const out = await tool.run(args as never, { backend, principal, canModerate });
              log.info('tool call', { tool: tool.name, outcome: 'ok', latencyMs: Math.round(performance.now() - started) });
              return { content: [{ type: 'text', text: out.text }], structuredContent: out.structured as Record<string, unknown> };
            } catch (err) {
              if (!(err instanceof ChatError)) throw err;
              log.info('tool call', { tool: tool.name, outcome: err.code, latencyMs: Math.round(performance.now() - started) });
              return { content: [{ type: 'text', text: err.message }], isError: true };
            }
          },
        );
      }
      return server;
    },
    { legacy: 'stateless', responseMode: 'json' },
  );

  const serve = toNodeHandler({
    fetch: async (request: Request) => {
      const auth = await gate(request);
      if (auth instanceof Response) return auth;
      return handler.fetch(request, { authInfo: auth });
    },
  });
  const http = createServer((req, res) => {
    const started = performance.now();
    res.on('close', () => log.info('request', { method: req.method, path: req.url, status: res.statusCode, latencyMs: Math.round(performance.now() - started) }));
    void serve(req, res);
  });
  http.keepAliveTimeout = 65_000;
  http.listen(config.port, config.host, () => log.info('listening', { port: config.port }));
  process.once('SIGTERM', () => http.close(() => void backend.close().then(() => process.exit(0))));
}

void main();
