import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { LINK_PREVIEW_FAILURES_QUERY, MCP_SLOWEST_TOOL_CALLS_QUERY, MCP_TOOL_ERROR_RATE_QUERY, MCP_TOOL_LATENCY_BY_TOOL_QUERY } from '../../../lib/operations/queries';
import { ChatError, type ChatBackend } from '../../../docker/mcp-server/src/backend/types';
import { createLogger } from '../../../docker/mcp-server/src/log';
import type { RequestContext } from '../../../docker/mcp-server/src/mcp/request-context';
import { callTool } from '../../../docker/mcp-server/src/mcp/server-factory';
import { TOOLS_BY_NAME } from '../../../docker/mcp-server/src/tools';
import { insertMessage, startLinkPreviewEnvironment, type LinkPreviewEnvironment } from '../../lambda/link-preview/entry-environment';
import { functionUrlEvent, hasuraEvent } from '../../lambda/link-preview/events';
import { capturePowertoolsOutput, type CapturedOutput } from '../../support/powertools-output';

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
});

describe('the link-preview failures query over the lines the webhook Lambda emits', () => {
  type Handler = (event: LambdaFunctionURLEvent) => Promise<LambdaFunctionURLResult>;
  let environment: LinkPreviewEnvironment & { webhookSecret: string };
  let output: CapturedOutput;
  let handler: Handler;
  beforeAll(async () => {
    environment = await startLinkPreviewEnvironment({ databaseName: 'queries_link_preview', phenomTimeoutMs: 2_000, logLevel: 'INFO' });
    output = capturePowertoolsOutput();
    ({ handler } = (await import('../../../lambda/link-preview/index')) as { handler: Handler });
  });
  afterAll(async () => {
    output?.restore();
    await environment?.close();
  });

  const deliver = async (phenomId: string, headers = { 'x-phenom-webhook-secret': environment.webhookSecret }) =>
    handler(functionUrlEvent({ body: JSON.stringify(hasuraEvent({ row: await insertMessage(environment.db, 'phenom_link', phenomId), currentRetry: 0, maxRetries: 5 })), headers }));

  it('keeps what the function logs when the Phenom API fails, when a caller or a payload is refused and when its database fails, and no success', async () => {
    environment.phenom.content.set('ph-fine', { title: 'Fine', description: null, thumbnail_url: null, media_type: null });
    await deliver('ph-fine');
    environment.phenom.behaviour = 'http-500';
    await deliver('ph-upstream-down');
    environment.phenom.behaviour = 'normal';
    await deliver('ph-unauthorized', { 'x-phenom-webhook-secret': 'wrong' });
    await handler(functionUrlEvent({ body: JSON.stringify({ not: 'an event trigger payload' }), headers: { 'x-phenom-webhook-secret': environment.webhookSecret } }));
    // The preview table gone: an unexpected failure, which the function logs at ERROR.
    await environment.db.pool.query('ALTER TABLE link_previews RENAME TO link_previews_gone');
    try {
      await deliver('ph-database-down');
    } finally {
      await environment.db.pool.query('ALTER TABLE link_previews_gone RENAME TO link_previews');
    }

    const lines = output.records().filter((r) => typeof r.level === 'string');
    expect(lines.map((l) => l.message)).toContain('link preview handled');
    const rows = run(LINK_PREVIEW_FAILURES_QUERY, lines);
    expect(rows.map((r) => [r.level, r.message])).toEqual([
      ['WARN', 'the Phenom API failed; Hasura will retry'],
      ['WARN', 'rejected a call without the webhook secret'],
      ['WARN', 'rejected a malformed payload'],
      ['ERROR', 'link preview failed'],
    ]);
    expect(rows[0]).toMatchObject({ phenomId: 'ph-upstream-down', failure: 'http_status' });
    // Each field the query shows, beyond the line's own, is on some line it keeps.
    const shown = (LINK_PREVIEW_FAILURES_QUERY.fields ?? []).filter((f) => !['@timestamp', 'level', 'message'].includes(f));
    expect(shown.filter((field) => !rows.some((row) => row[field] !== undefined))).toEqual([]);
  });
});
