import { McpServer, type McpRequestContext } from '@modelcontextprotocol/server';
import { ChatError, type ChatBackend } from '../backend/types';
import { errorFields } from '../log';
import { CHAT_TOOLS } from '../tools';
import type { ChatTool } from '../tools/common';
import type { RequestContext } from './request-context';

export const SERVER_INFO = { name: 'phenom-chat', version: '1.0.0' } as const;

const INSTRUCTIONS =
  'Tools for the Phenom chat rooms. Start with chat_list_rooms to get room ids; read with chat_get_messages; post with chat_send_message; ' +
  'moderate with chat_delete_message, chat_mute_user / chat_unmute_user and chat_ban_user / chat_unban_user (user ids come from chat_list_members). ' +
  'Failed calls return isError with a sentence that says what to change.';

const UNEXPECTED = 'The chat backend failed unexpectedly. Nothing was changed by this call as far as the server knows; try again in a moment.';

/** Runs one tool: validated args in, a CallToolResult out; every failure becomes an isError result. */
async function callTool(tool: ChatTool, args: unknown, backend: ChatBackend, rc: RequestContext) {
  const started = performance.now();
  try {
    const out = await tool.run(args, { backend, principal: rc.principal, canModerate: rc.canModerate });
    rc.outcome = 'ok';
    rc.log.info('tool call', { tool: tool.name, outcome: 'ok', latencyMs: Math.round(performance.now() - started) });
    return { content: [{ type: 'text' as const, text: out.text }], structuredContent: out.structured as Record<string, unknown> };
  } catch (err) {
    const latencyMs = Math.round(performance.now() - started);
    if (err instanceof ChatError) {
      rc.outcome = err.code;
      rc.log.info('tool call', { tool: tool.name, outcome: err.code, latencyMs });
      return { content: [{ type: 'text' as const, text: err.message }], isError: true };
    }
    rc.outcome = 'internal_error';
    rc.log.error('tool call failed', { tool: tool.name, outcome: 'internal_error', latencyMs, ...errorFields(err) });
    return { content: [{ type: 'text' as const, text: UNEXPECTED }], isError: true };
  }
}

/**
 * The McpServerFactory for createMcpHandler: a fresh McpServer with the nine tools for every HTTP
 * request (stateless serving; DESIGN.md explains why instances are never shared between requests).
 * The per-request context rides in authInfo.extra, set by the HTTP layer after authentication.
 */
export function createServerFactory(backend: ChatBackend) {
  return (ctx: McpRequestContext): McpServer => {
    const rc = ctx.authInfo?.extra?.requestContext as RequestContext | undefined;
    if (!rc) throw new Error('MCP request reached the server without an authenticated request context');
    const server = new McpServer(SERVER_INFO, { capabilities: { tools: {} }, instructions: INSTRUCTIONS });
    for (const tool of CHAT_TOOLS) {
      server.registerTool(
        tool.name,
        {
          title: tool.title,
          description: tool.description,
          inputSchema: tool.inputSchema,
          outputSchema: tool.outputSchema,
          annotations: { title: tool.title, ...tool.annotations },
        },
        (args: unknown) => callTool(tool, args, backend, rc),
      );
    }
    return server;
  };
}
