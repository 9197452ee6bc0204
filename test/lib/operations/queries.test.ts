import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as logs from 'aws-cdk-lib/aws-logs';
import { LINK_PREVIEW_FAILURES_QUERY, MCP_SLOWEST_TOOL_CALLS_QUERY, MCP_TOOL_ERROR_RATE_QUERY, MCP_TOOL_LATENCY_BY_TOOL_QUERY } from '../../../lib/operations/queries';
import { ChatError, type ChatBackend } from '../../../docker/mcp-server/src/backend/types';
import { createLogger } from '../../../docker/mcp-server/src/log';
import type { RequestContext } from '../../../docker/mcp-server/src/mcp/request-context';
import { callTool } from '../../../docker/mcp-server/src/mcp/server-factory';
import { TOOLS_BY_NAME } from '../../../docker/mcp-server/src/tools';

type Line = Record<string, unknown>;

/**
 * The few Logs Insights expressions these queries use, evaluated on one log line:
 * `strcontains(f, "s")`, `1 - <expr>`, `ispresent(f)`, `f like /re/`, `f = "s"`, joined by and/or.
 */
function evaluate(expression: string, line: Line): number | boolean {
  const e = expression.trim();
  const or = e.split(/ or /);
  if (or.length > 1) return or.some((part) => evaluate(part, line));
  const and = e.split(/ and /);
  if (and.length > 1) return and.every((part) => evaluate(part, line));
  let m: RegExpExecArray | null;
  if ((m = /^1 - (.+)$/.exec(e))) return 1 - Number(evaluate(m[1]!, line));
  if ((m = /^strcontains\((\w+), "([^"]*)"\)$/.exec(e))) return String(line[m[1]!] ?? '').includes(m[2]!) ? 1 : 0;
  if ((m = /^ispresent\((\w+)\)$/.exec(e))) return line[m[1]!] !== undefined;
  if ((m = /^(\w+) like \/(.+)\/$/.exec(e))) return new RegExp(m[2]!).test(String(line[m[1]!] ?? ''));
  if ((m = /^(\w+) = "([^"]*)"$/.exec(e))) return line[m[1]!] === m[2];
  throw new Error(`the test's evaluator does not know ${e}`);
}

/** The lines a query keeps, with its `... as name` fields computed. */
function run(query: logs.QueryStringProps, lines: Line[]): Line[] {
  return lines
    .filter((line) => (query.filterStatements ?? []).every((f) => evaluate(f, line)))
    .map((line) => {
      const out: Line = { ...line };
      for (const field of query.fields ?? []) {
        const m = /^(.+) as (\w+)$/.exec(field);
        if (m) out[m[2]!] = evaluate(m[1]!, line);
      }
      return out;
    });
}

describe('Logs Insights queries over the lines the MCP server emits', () => {
  /** Runs chat_list_rooms through the real tool layer against a backend that answers `listRooms` as told, and returns what it logged. */
  const logged = async (listRooms: () => Promise<unknown>): Promise<Line[]> => {
    const lines: Line[] = [];
    const log = createLogger('debug', { requestId: 'req-1' }, (line) => lines.push(JSON.parse(line) as Line));
    const backend = { kind: 'postgres', listRooms } as unknown as ChatBackend;
    const rc: RequestContext = {
      requestId: 'req-1',
      principal: { clientId: 'c', subject: 'c', scopes: ['chat/read', 'chat/moderate'], groups: [], expiresAt: Math.floor(Date.now() / 1000) + 60 },
      canModerate: true,
      log,
    };
    await callTool(TOOLS_BY_NAME.get('chat_list_rooms')!, {}, backend, rc);
    return lines;
  };

  it('counts a success as not failed, a ChatError as failed, and a crash as failed and internal', async () => {
    const ok = await logged(async () => []);
    const chatError = await logged(async () => {
      throw new ChatError('backend_unavailable', 'down');
    });
    const crash = await logged(async () => {
      throw new TypeError('a bug');
    });
    const rows = run(MCP_TOOL_ERROR_RATE_QUERY, [...ok, ...chatError, ...crash]);
    expect(rows.map((r) => ({ tool: r.tool, outcome: r.outcome, failed: r.failed, internal: r.internal }))).toEqual([
      { tool: 'chat_list_rooms', outcome: 'ok', failed: 0, internal: 0 },
      { tool: 'chat_list_rooms', outcome: 'backend_unavailable', failed: 1, internal: 0 },
      { tool: 'chat_list_rooms', outcome: 'internal_error', failed: 1, internal: 1 },
    ]);
  });

  it('finds every call, with its latency and request id, for the latency queries', async () => {
    const lines = [...(await logged(async () => [])), ...(await logged(async () => Promise.reject(new ChatError('forbidden', 'no'))))];
    for (const query of [MCP_SLOWEST_TOOL_CALLS_QUERY, MCP_TOOL_LATENCY_BY_TOOL_QUERY]) {
      const rows = run(query, lines);
      expect(rows).toHaveLength(2);
      for (const row of rows) expect(row).toMatchObject({ tool: 'chat_list_rooms', latencyMs: expect.any(Number), requestId: 'req-1' });
    }
  });

  it('renders the queries the console will run', () => {
    expect(new logs.QueryString(MCP_TOOL_ERROR_RATE_QUERY).toString()).toBe(
      [
        'fields 1 - strcontains(outcome, "ok") as failed, strcontains(outcome, "internal_error") as internal',
        '| filter msg like /^tool call/ and ispresent(tool)',
        '| stats count(*) as calls, sum(failed) as errors, sum(internal) as internalErrors, 100 * sum(failed) / count(*) as errorRatePct by tool',
        '| sort errorRatePct desc',
      ].join('\n'),
    );
    expect(new logs.QueryString(MCP_SLOWEST_TOOL_CALLS_QUERY).toString()).toContain('| sort latencyMs desc\n| limit 50');
    expect(new logs.QueryString(LINK_PREVIEW_FAILURES_QUERY).toString()).toContain('filter level = "ERROR" or level = "WARN"');
  });

  // Still read from the source (running the webhook against a failing Phenom API is left to do).
  test('the link-preview Lambda logs its failures at WARN/ERROR with the fields the query shows', () => {
    const handler = readFileSync(join(__dirname, '../../../lambda/link-preview/webhook-handler.ts'), 'utf8');
    expect(handler).toMatch(/logger\.warn\('the Phenom API failed; Hasura will retry', \{ phenomId: request\.phenomId, failure: err\.failure/);
    expect(handler).toMatch(/logger\.error\('link preview failed'/);
  });
});
