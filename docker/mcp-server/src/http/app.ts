import { randomUUID } from 'node:crypto';
import { CF_CONNECTING_IP_HEADER, createClientIpSource } from '../../../../chat-domain/client-ip';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { buildOAuthProtectedResourceMetadata, createMcpHandler, getOAuthProtectedResourceMetadataUrl } from '@modelcontextprotocol/server';
import { createBearerAuth, insufficientScope, type AuthAnswer } from '../auth/bearer';
import type { AccessTokenVerifier, Principal } from '../auth/verifier';
import type { ChatBackend } from '../backend/types';
import type { ServerConfig } from '../config';
import { errorFields, type Logger } from '../log';
import type { RequestContext } from '../mcp/request-context';
import { createServerFactory } from '../mcp/server-factory';
import { TOOLS_BY_NAME } from '../tools';
import { BodyTooLargeError, decodeUtf8, readBody } from './body';
import { hotRequest, serveHotRequest } from './fast-path';
import { isPlainLegacyPost, serveLegacyPost } from './legacy';
import { createBrowserRules } from './browser';
import { RateLimiter } from './rate-limit';

export interface AppDependencies {
  config: ServerConfig;
  backend: ChatBackend;
  verifier: AccessTokenVerifier;
  log: Logger;
}

export interface App {
  listener(req: IncomingMessage, res: ServerResponse): void;
  /** Requests being served right now (graceful shutdown waits for 0). */
  inFlight(): number;
  close(): Promise<void>;
}

// The ALB's health check times out after 5 s; answer well inside it even when the backend hangs.
const HEALTH_TIMEOUT_MS = 2_000;
const REQUEST_ID = /^[A-Za-z0-9._:=/+-]{1,128}$/;

/** The one caller of AUTH_MODE=none (local mode only; config refuses it elsewhere). */
const LOCAL_PRINCIPAL: Principal = { clientId: 'local-unauthenticated', subject: 'local-unauthenticated', scopes: [], groups: [], expiresAt: Number.MAX_SAFE_INTEGER };

const AS_METADATA_PATH = '/.well-known/oauth-authorization-server';

/**
 * RFC 8414 metadata for the Cognito user pool's OAuth endpoints, published at this server's origin.
 * Cognito's own discovery document (…/<pool>/.well-known/openid-configuration) omits
 * code_challenge_methods_supported, and MCP 2025-11-25 clients (the Inspector, Claude Code) refuse an
 * authorization server that does not advertise S256, although Cognito supports it. Everything here
 * is Cognito's: its hosted-UI endpoints, its JWKS; only the document is ours. Cognito has no dynamic
 * client registration, so there is no registration_endpoint: clients are given the public client id.
 */
function cognitoAuthorizationServerMetadata(config: ServerConfig, domain: string) {
  const base = `https://${domain}`;
  return {
    issuer: new URL(config.resourceUrl).origin,
    authorization_endpoint: `${base}/oauth2/authorize`,
    token_endpoint: `${base}/oauth2/token`,
    revocation_endpoint: `${base}/oauth2/revoke`,
    jwks_uri: `${config.issuer}/.well-known/jwks.json`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    scopes_supported: [config.readScope, config.moderateScope],
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }).end(JSON.stringify(body));
}

/** JSON-RPC method and tool name of a request body, for scope checks and the access log. */
function describeRpc(body: unknown): { method?: string; tool?: string; args?: unknown } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return {};
  const { method, params } = body as { method?: unknown; params?: { name?: unknown; arguments?: unknown } };
  if (typeof method !== 'string') return {};
  if (method === 'tools/call' && params && typeof params.name === 'string') return { method, tool: params.name, args: params.arguments };
  return { method };
}

export function createApp({ config, backend, verifier, log }: AppDependencies): App {
  const limiter = new RateLimiter(config.rateLimitPerMinute, config.rateLimitBurst);
  // The address logged for each request: the one Synapse's edge proxy would choose, never one the caller wrote.
  const clientIpOf = createClientIpSource(config.edgeProvider, config.albPeerCidrs);
  const metadataUrl = getOAuthProtectedResourceMetadataUrl(new URL(config.resourceUrl));
  const metadataPath = new URL(metadataUrl).pathname;
  // RFC 9728 document, built (and its issuer URL checked) once at startup; bearer_methods_supported
  // is ours: tokens are accepted in the Authorization header only.
  const metadataBody = JSON.stringify({
    ...buildOAuthProtectedResourceMetadata({
      oauthMetadata: { issuer: config.authorizationServer, authorization_endpoint: '', token_endpoint: '', response_types_supported: ['code'] },
      resourceServerUrl: new URL(config.resourceUrl),
      scopesSupported: [config.readScope, config.moderateScope],
      resourceName: 'Phenom Chat MCP server',
    }),
    bearer_methods_supported: ['header'],
  });
  const asMetadataBody = config.cognitoDomain ? JSON.stringify(cognitoAuthorizationServerMetadata(config, config.cognitoDomain)) : undefined;
  const browser = createBrowserRules(config);
  const authenticate = createBearerAuth({ verifier, resourceMetadataUrl: metadataUrl, defaultScope: config.readScope });
  const serverFactory = createServerFactory(backend);
  const mcpHandler = createMcpHandler(serverFactory, {
    legacy: 'stateless', // 2025-11-25 clients: a fresh server + transport per request
    responseMode: 'json', // no tool streams progress; plain JSON is cheapest for 2026-07-28 clients
    maxRequestBodySize: config.maxBodyBytes,
    onerror: (err) => log.warn('mcp handler error', errorFields(err)),
  });
  const serveMcp = toNodeHandler(mcpHandler, {
    maxRequestBodySize: config.maxBodyBytes,
    onerror: (err) => log.error('mcp adapter error', errorFields(err)),
  });
  let active = 0;

  const canModerate = (p: Principal) => p.scopes.includes(config.moderateScope) || p.groups.some((g) => config.moderatorGroups.includes(g));
  const canRead = (p: Principal) => p.scopes.includes(config.readScope) || canModerate(p);

  async function health(res: ServerResponse): Promise<void> {
    const timeout = new Promise<{ ok: boolean }>((resolve) => setTimeout(() => resolve({ ok: false }), HEALTH_TIMEOUT_MS).unref());
    const { ok } = await Promise.race([backend.health().catch(() => ({ ok: false })), timeout]);
    // Always 200: the task itself is healthy; a database outage must not make the ALB cycle every task.
    sendJson(res, 200, { status: 'ok', backend: ok ? 'reachable' : 'unreachable' });
  }

  function metadata(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=3600' }).end(metadataBody);
  }

  function sendAnswer(res: ServerResponse, answer: AuthAnswer): void {
    res.writeHead(answer.status, { 'cache-control': 'no-store', ...answer.headers }).end(answer.body);
  }

  async function mcp(req: IncomingMessage, res: ServerResponse, reqLog: Logger, access: Record<string, unknown>): Promise<void> {
    if (!browser.checkOrigin(req, res)) return;

    let principal: Principal;
    if (config.authMode === 'none') {
      principal = { ...LOCAL_PRINCIPAL, scopes: [config.readScope, config.moderateScope] };
    } else {
      const verified = await authenticate(req.headers.authorization);
      if (!verified.ok) {
        if (verified.reason === 'unavailable') reqLog.error('token keys unavailable');
        if (verified.reason === 'invalid') access.authError = 'invalid_token';
        return sendAnswer(res, verified.answer);
      }
      principal = verified.principal;
    }
    access.clientId = principal.clientId;

    const wait = limiter.take(principal.clientId);
    if (wait > 0) {
      return sendJson(res, 429, { error: 'rate_limited', error_description: `too many requests from this agent; retry in ${wait} s` }, { 'retry-after': String(wait) });
    }

    let parsedBody: unknown;
    if (req.method === 'POST') {
      let raw: Buffer;
      try {
        raw = await readBody(req, config.maxBodyBytes);
      } catch (err) {
        if (err instanceof BodyTooLargeError) {
          res.setHeader('connection', 'close'); // the rest of the body is not read
          return sendJson(res, 413, { error: 'payload_too_large', error_description: `request bodies are limited to ${err.limit} bytes` });
        }
        throw err;
      }
      let text: string;
      try {
        text = decodeUtf8(raw);
      } catch {
        return sendJson(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: the body is not valid UTF-8' } });
      }
      try {
        parsedBody = JSON.parse(text);
      } catch {
        return sendJson(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: the body is not valid JSON' } });
      }
    }

    if (Array.isArray(parsedBody)) {
      // MCP 2025-11-25 (and 2025-06-18) removed JSON-RPC batching; only 2025-03-26 had it, and no
      // SDK client sends one. Refused for every version: a batch would let one request run many
      // calls past a scope check that sees only one, for a single rate-limit token.
      return sendJson(res, 400, {
        jsonrpc: '2.0',
        id: null,
        error: { code: -32600, message: 'Invalid Request: JSON-RPC batches are not supported (MCP 2025-11-25 has none); send one request per POST' },
      });
    }

    const rpc = describeRpc(parsedBody);
    Object.assign(access, { rpcMethod: rpc.method, tool: rpc.tool });
    const tool = rpc.tool ? TOOLS_BY_NAME.get(rpc.tool) : undefined;
    const needed = tool && (tool.access === 'moderate' || tool.needsModeration?.(rpc.args)) ? config.moderateScope : config.readScope;
    const allowed = needed === config.moderateScope ? canModerate(principal) : canRead(principal);
    if (!allowed) {
      const description = tool ? `${tool.name} needs the ${needed} scope` : `this server needs the ${needed} scope`;
      return sendAnswer(res, await insufficientScope(needed, description, metadataUrl));
    }

    const requestContext: RequestContext = { requestId: access.requestId as string, principal, canModerate: canModerate(principal), log: reqLog };
    // The caller's token stays here: nothing after this point (tools, backends) ever sees it.
    const auth = { token: '', clientId: principal.clientId, scopes: principal.scopes, expiresAt: principal.expiresAt, extra: { requestContext } };
    // Why not the SDK-idiomatic server (McpServer.registerTool + createMcpHandler for everything +
    // the SDK's auth middleware): npm run bench:mcp measures it beside this one (the "SDK server"
    // rows). While this path too built a fresh SDK Server + stateless transport per request, it used 1.15-1.39x
    // our server CPU per call. The fast path (fast-path.ts: plain tools/call of a chat tool and
    // tools/list answered without a Server, a transport or web Request/Response, the SDK's answer
    // proved equal in test/http/fast-path.test.ts) took our CPU per call from 4.5 / 3.3 / 3.0 ms to
    // 1.0-1.7 / 1.2-1.3 / 0.8-0.9 ms at 1 / 16 / 64 clients, and tools/list from 1.5 to 0.24-0.35 ms;
    // the SDK server now needs 2.4-3.9x our CPU per call and reaches 0.28-0.49x our throughput at
    // 16 and 64 clients, 0.10-0.13x on tools/list (1 Dec 2026, a shared 2-core machine at load
    // 11-13, so throughput is noisy; CPU per call is the steady figure). Anything else stays on
    // the SDK: the fresh Server + transport below, or createMcpHandler for 2026-07-28 traffic. Only
    // the SDK's bearer and RFC 9728 helpers, which cost ~0, replaced code of ours.
    const hot = isPlainLegacyPost(req, parsedBody) ? hotRequest(req, parsedBody) : undefined;
    if (hot) await serveHotRequest(res, hot, backend, requestContext);
    else if (isPlainLegacyPost(req, parsedBody)) await serveLegacyPost(req, res, parsedBody, serverFactory({ authInfo: auth }), auth);
    else await serveMcp(Object.assign(req, { auth }), res, parsedBody);
    if (requestContext.outcome) access.outcome = requestContext.outcome;
    else if (rpc.tool) access.outcome = 'rejected_by_protocol'; // unknown tool or arguments that failed the input schema
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const incomingId = req.headers['x-request-id'];
    const requestId = typeof incomingId === 'string' && REQUEST_ID.test(incomingId) ? incomingId : randomUUID();
    res.setHeader('x-request-id', requestId);
    const reqLog = log.child({ requestId });
    const path = (req.url ?? '/').split('?')[0];
    const { clientIp } = clientIpOf({ peer: req.socket.remoteAddress, xForwardedFor: req.headers['x-forwarded-for'], cfConnectingIp: req.headers[CF_CONNECTING_IP_HEADER.toLowerCase()] });
    const access: Record<string, unknown> = { requestId, method: req.method, path, clientIp };
    active++;
    res.on('close', () => {
      active--;
      const line = { ...access, status: res.statusCode, latencyMs: Math.round(performance.now() - started) };
      if (path.endsWith('/health')) log.debug('request', line);
      else log.info('request', line);
    });
    try {
      if ((path === '/health' || path === '/mcp/health') && req.method === 'GET') return await health(res);
      const discovery = (path === metadataPath && config.authMode !== 'none') || (path === AS_METADATA_PATH && asMetadataBody !== undefined);
      if (discovery || path === '/mcp') {
        if (!browser.checkHost(req, res)) return;
      }
      if (discovery && (req.method === 'GET' || req.method === 'OPTIONS')) {
        if (!browser.publicDocument(req, res)) return;
        if (path === metadataPath) return metadata(res);
        return void res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=3600' }).end(asMetadataBody);
      }
      if (path === '/mcp') return await mcp(req, res, reqLog, access);
      sendJson(res, 404, { error: 'not_found' });
    } catch (err) {
      reqLog.error('request failed', errorFields(err));
      if (!res.headersSent) sendJson(res, 500, { error: 'internal_error' });
      else res.end();
    }
  }

  return {
    listener: (req, res) => void route(req, res),
    inFlight: () => active,
    close: () => mcpHandler.close(),
  };
}
