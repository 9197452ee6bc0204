import { ProtocolError, ProtocolErrorCode, Server, type CallToolResult, type McpRequestContext } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { ChatError, type ChatBackend } from '../backend/types';
import { errorFields } from '../log';
import { CHAT_TOOLS, TOOLS_BY_NAME } from '../tools';
import type { ChatTool } from '../tools/common';
import { oneLine, renderText } from './render';
import type { RequestContext } from './request-context';

export const SERVER_INFO = { name: 'phenom-chat', version: '1.0.0' } as const;

const INSTRUCTIONS =
  'Tools for the Phenom chat rooms. Start with chat_list_rooms to get room ids; read with chat_get_messages; post with chat_send_message; ' +
  'moderate with chat_delete_message, chat_mute_user / chat_unmute_user and chat_ban_user / chat_unban_user (user ids come from chat_list_members; ' +
  'chat_list_bans shows who is banned). ' +
  'Failed calls return isError with a sentence that says what to change.';

const UNEXPECTED = 'The chat backend failed unexpectedly. Nothing was changed by this call as far as the server knows; try again in a moment.';

// JSON Schema 2020-12, the dialect MCP 2025-11-25 and 2026-07-28 assume when $schema is absent.
const toJson = (schema: z.ZodType, io: 'input' | 'output') => {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io, target: 'draft-2020-12' }) as Record<string, unknown>;
  return json as { type: 'object'; [k: string]: unknown };
};

/**
 * tools/list, computed once per process: converting ten zod schemas to JSON Schema on every
 * request would cost more than the request itself (each request gets a fresh server instance).
 */
const LISTED_TOOLS = CHAT_TOOLS.map((tool) => ({
  name: tool.name,
  title: tool.title,
  description: tool.description,
  inputSchema: toJson(tool.inputSchema, 'input'),
  outputSchema: toJson(tool.outputSchema, 'output'),
  annotations: { title: tool.title, ...tool.annotations },
}));
const OUTPUT_SCHEMAS = new Map(LISTED_TOOLS.map((t) => [t.name, t.outputSchema]));
/** The tools/list result serialized once, for the fast path (src/http/fast-path.ts). */
export const LISTED_TOOLS_JSON = JSON.stringify({ tools: LISTED_TOOLS });

/**
 * tools/call params with `arguments` left exactly as the request's JSON had it. The SDK's own
 * parse copies arguments through a zod record, which silently drops an own "__proto__" key (JSON.parse
 * makes one): the tool's strict input schema must see it to refuse it like any other unknown key.
 * The SDK has already checked the request against the protocol schema when this runs.
 */
const CallParams = z.looseObject({ name: z.string(), arguments: z.unknown().optional() });

/**
 * The largest tool result, serialized (structuredContent plus its text rendering, which repeats it
 * as JSON). Before pages and this budget, one chat_list_members call for a 20,000-member room
 * answered 4.1 MiB and one agent's 60-call burst took the 512 MiB task past 500 MiB; at 256 KiB the
 * same burst holds under 16 MiB of results, and a page of 100 ordinary messages still fits.
 */
export const MAX_RESULT_BYTES = 256 * 1024;
/** Re-asks with a smaller page at most this often; each step aims under the budget, so one or two suffice. */
const MAX_SHRINKS = 6;

/** Runs one tool: raw args in, a CallToolResult out; every failure becomes an isError result with a sentence. */
export async function callTool(tool: ChatTool, rawArgs: unknown, backend: ChatBackend, rc: RequestContext): Promise<CallToolResult> {
  return (await runTool(tool, rawArgs, backend, rc)).result;
}

/**
 * callTool, also handing back the result's JSON when it was serialized to check the byte budget,
 * so the fast path frames that string instead of serializing the result a second time.
 */
export async function runTool(tool: ChatTool, rawArgs: unknown, backend: ChatBackend, rc: RequestContext): Promise<{ result: CallToolResult; json?: string }> {
  const started = performance.now();
  const parsed = tool.inputSchema.safeParse(rawArgs ?? {});
  if (!parsed.success) {
    rc.outcome = 'invalid_input';
    rc.log.info('tool call', { tool: tool.name, outcome: 'invalid_input', latencyMs: Math.round(performance.now() - started) });
    return { result: { content: [{ type: 'text', text: `Invalid arguments for ${tool.name}: ${z.prettifyError(parsed.error)}` }], isError: true } };
  }
  try {
    const ctx = { backend, principal: rc.principal, canModerate: rc.canModerate };
    let args = parsed.data;
    for (let shrinks = 0; ; shrinks++) {
      const out = await tool.run(args, ctx);
      // The structured JSON is written once and used twice: in the text, and as structuredContent in
      // the result's JSON, which is built around it as JSON.stringify(result) would write it.
      const structuredJson = JSON.stringify(out.structured);
      const text = renderText(out.text, out.structured, structuredJson);
      const result: CallToolResult = { content: [{ type: 'text', text }], structuredContent: out.structured as Record<string, unknown> };
      const json = `{"content":[{"type":"text","text":${JSON.stringify(text)}}],"structuredContent":${structuredJson}}`;
      const bytes = Buffer.byteLength(json);
      if (bytes <= MAX_RESULT_BYTES) {
        rc.outcome = 'ok';
        rc.log.info('tool call', { tool: tool.name, outcome: 'ok', latencyMs: Math.round(performance.now() - started), ...(shrinks ? { shrinks } : {}) });
        return { result, json };
      }
      // Only read tools shrink (a smaller page of the same query), so running again writes nothing.
      const smaller = shrinks < MAX_SHRINKS && out.count !== undefined ? tool.shrink?.(args, MAX_RESULT_BYTES / bytes, out.count) : undefined;
      if (!smaller) {
        throw new ChatError('result_too_large', `The result would be ${Math.ceil(bytes / 1024)} KiB; a tool result may hold ${MAX_RESULT_BYTES / 1024} KiB. Ask for less.`);
      }
      args = smaller;
    }
  } catch (err) {
    const latencyMs = Math.round(performance.now() - started);
    if (err instanceof ChatError) {
      rc.outcome = err.code;
      rc.log.info('tool call', { tool: tool.name, outcome: err.code, latencyMs });
      return { result: { content: [{ type: 'text', text: oneLine(err.message) }], isError: true } };
    }
    rc.outcome = 'internal_error';
    rc.log.error('tool call failed', { tool: tool.name, outcome: 'internal_error', latencyMs, ...errorFields(err) });
    return { result: { content: [{ type: 'text', text: UNEXPECTED }], isError: true } };
  }
}

/**
 * A fresh MCP server with the chat tools, for one HTTP request (stateless serving; DESIGN.md
 * explains why instances are never shared between requests). The per-request context rides in
 * authInfo.extra, set by the HTTP layer after authentication.
 */
export function createServerFactory(backend: ChatBackend) {
  return (ctx: Pick<McpRequestContext, 'authInfo'>): Server => {
    const rc = ctx.authInfo?.extra?.requestContext as RequestContext | undefined;
    if (!rc) throw new Error('MCP request reached the server without an authenticated request context');
    const server = new Server(SERVER_INFO, { capabilities: { tools: { listChanged: false } }, instructions: INSTRUCTIONS });
    server.setRequestHandler('tools/list', () => ({ tools: LISTED_TOOLS }));
    server.setRequestHandler('tools/call', { params: CallParams }, async (params) => {
      const tool = TOOLS_BY_NAME.get(params.name);
      if (!tool) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Tool ${params.name} not found; tools/list names the chat tools`);
      const result = await callTool(tool, params.arguments, backend, rc);
      return server.projectCallToolResult(result, OUTPUT_SCHEMAS.get(tool.name)) as CallToolResult;
    });
    return server;
  };
}
