import type { IncomingMessage, ServerResponse } from 'node:http';
import { isJsonContentType, ProtocolErrorCode } from '@modelcontextprotocol/server';
import type { ChatBackend } from '../backend/types';
import type { RequestContext } from '../mcp/request-context';
import { LISTED_TOOLS_JSON, runTool } from '../mcp/server-factory';
import type { ChatTool } from '../tools/common';
import { TOOLS_BY_NAME } from '../tools';

/**
 * The two requests an agent sends over and over (tools/call of a known tool, tools/list), in the
 * one shape the SDK's stateless legacy serving accepts unchanged: a 2025-era POST that accepts
 * JSON and SSE, a JSON body that is one JSON-RPC request with nothing but jsonrpc, id, method and
 * params, and params with nothing the SDK would act on (no _meta, no cursor, no task). Anything
 * else, however slightly different, is left to the SDK, which answers it as it always has; so
 * this path only has to give the SDK's answer for requests the SDK would run straight through.
 */
export type HotRequest = { method: 'tools/list'; id: string | number } | { method: 'tools/call'; id: string | number; tool: ChatTool; args: unknown };

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const onlyKeys = (o: Record<string, unknown>, allowed: readonly string[]) => Object.keys(o).every((k) => allowed.includes(k));
const REQUEST_KEYS = ['jsonrpc', 'id', 'method', 'params'] as const;
const CALL_KEYS = ['name', 'arguments'] as const;

/** `body` as a hot request, or undefined when the SDK should serve it (isPlainLegacyPost already held). */
export function hotRequest(req: IncomingMessage, body: unknown): HotRequest | undefined {
  // The transport's own checks (406, 415) come first there; a request that fails one is the SDK's.
  const accept = req.headers.accept;
  if (typeof accept !== 'string' || !accept.includes('application/json') || !accept.includes('text/event-stream')) return undefined;
  const contentType = req.headers['content-type'];
  if (typeof contentType !== 'string' || !isJsonContentType(contentType)) return undefined;
  if (!isPlainObject(body) || body.jsonrpc !== '2.0' || !onlyKeys(body, REQUEST_KEYS)) return undefined;
  const { id, method, params } = body;
  if (!(typeof id === 'string' || Number.isSafeInteger(id))) return undefined;
  if (method === 'tools/list') {
    return params === undefined || (isPlainObject(params) && Object.keys(params).length === 0) ? { method, id: id as string | number } : undefined;
  }
  if (method !== 'tools/call' || !isPlainObject(params) || !onlyKeys(params, CALL_KEYS) || typeof params.name !== 'string') return undefined;
  if (params.arguments !== undefined && !isPlainObject(params.arguments)) return undefined;
  // An unknown tool gets the SDK's -32602; only the chat tools are served here.
  const tool = TOOLS_BY_NAME.get(params.name);
  return tool ? { method, id: id as string | number, tool, args: params.arguments } : undefined;
}

/** A JSON-RPC success response around an already serialized result, as the SDK frames it. */
export const resultResponse = (id: string | number, resultJson: string): string => `{"result":${resultJson},"jsonrpc":"2.0","id":${JSON.stringify(id)}}`;

/**
 * Answers a hot request as the SDK's fresh Server + WebStandardStreamableHTTPServerTransport would
 * (the same result, status 200, content-type application/json), without building either, nor the
 * web Request/Response pair, nor re-validating the JSON-RPC envelope and a result we built.
 */
export async function serveHotRequest(res: ServerResponse, hot: HotRequest, backend: ChatBackend, rc: RequestContext): Promise<void> {
  let body: string;
  if (hot.method === 'tools/list') body = resultResponse(hot.id, LISTED_TOOLS_JSON);
  else {
    try {
      const { result, json } = await runTool(hot.tool, hot.args, backend, rc);
      body = resultResponse(hot.id, json ?? JSON.stringify(result));
    } catch (err) {
      // runTool turns every failure into an isError result; this is the SDK's answer to a handler that throws all the same.
      body = JSON.stringify({ jsonrpc: '2.0', id: hot.id, error: { code: ProtocolErrorCode.InternalError, message: (err as Error)?.message ?? 'Internal error' } });
    }
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(body);
}
