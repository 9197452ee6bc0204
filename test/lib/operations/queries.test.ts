import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as logs from 'aws-cdk-lib/aws-logs';
import { LINK_PREVIEW_FAILURES_QUERY, MCP_SLOWEST_TOOL_CALLS_QUERY, MCP_TOOL_ERROR_RATE_QUERY } from '../../../lib/operations/queries';

const root = join(__dirname, '../../..');
const source = (path: string) => readFileSync(join(root, path), 'utf8');

describe('Logs Insights queries match what the services log', () => {
  test('the MCP server logs one "tool call" line with tool, outcome and latencyMs, the fields the queries read', () => {
    const factory = source('docker/mcp-server/src/mcp/server-factory.ts');
    expect(factory).toMatch(/log\.info\('tool call', \{ tool: tool\.name, outcome: 'ok', latencyMs:/);
    expect(factory).toMatch(/log\.info\('tool call', \{ tool: tool\.name, outcome: err\.code, latencyMs \}/);
    expect(factory).toMatch(/log\.error\('tool call failed', \{ tool: tool\.name, outcome: 'internal_error', latencyMs/);
    // The logger writes the message under "msg" (docker/mcp-server/src/log.ts).
    expect(source('docker/mcp-server/src/log.ts')).toMatch(/JSON\.stringify\(\{ time: .*, level: lvl, msg, /);
  });

  test('"ok" is the only outcome containing "ok", so strcontains(outcome, "ok") marks successes exactly', () => {
    const types = source('docker/mcp-server/src/backend/types.ts');
    const union = /export type ChatErrorCode =([^;]+);/.exec(types)?.[1];
    expect(union).toBeDefined();
    const codes = [...union!.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]);
    expect(codes.length).toBeGreaterThan(5);
    expect([...codes, 'internal_error'].filter((c) => c.includes('ok'))).toEqual([]);
  });

  test('renders the queries the console will run', () => {
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

  test('the link-preview Lambda logs its failures at WARN/ERROR with the fields the query shows', () => {
    const handler = source('lambda/link-preview/webhook-handler.ts');
    expect(handler).toMatch(/logger\.warn\('the Phenom API failed; Hasura will retry', \{ phenomId: request\.phenomId, failure: err\.failure/);
    expect(handler).toMatch(/logger\.error\('link preview failed'/);
  });
});
