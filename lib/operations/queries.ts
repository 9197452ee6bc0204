import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
export interface ChatLogQueriesProps {
  /** The console's saved-query folder the queries are filed in. */
  readonly prefix: string;
  /**
   * The MCP server's log group (JSON lines from docker/mcp-server/src/log.ts).
   * @default - no MCP queries
   */
  readonly mcpServerLogGroup?: logs.ILogGroup;
  /**
   * The link-preview Lambda's log group (Powertools JSON).
   * @default - no link-preview query
   */
  readonly linkPreviewLogGroup?: logs.ILogGroup;
}

/**
 * The MCP server logs one `{"msg":"tool call", tool, outcome, latencyMs, requestId}`
 * line per tool call (docker/mcp-server/src/mcp/server-factory.ts): outcome is
 * `ok`, a ChatError code (`not_member`, `room_not_found`, …: the caller's
 * mistake), or `internal_error` (ours; logged as "tool call failed").
 * `strcontains(outcome, "ok")` is 1 only for `ok`: no ChatError code contains
 * "ok" (a test checks the code list).
 */
export const MCP_TOOL_ERROR_RATE_QUERY: logs.QueryStringProps = {
  fields: ['1 - strcontains(outcome, "ok") as failed', 'strcontains(outcome, "internal_error") as internal'],
  filterStatements: ['msg like /^tool call/ and ispresent(tool)'],
  statsStatements: ['count(*) as calls, sum(failed) as errors, sum(internal) as internalErrors, 100 * sum(failed) / count(*) as errorRatePct by tool'],
  sort: 'errorRatePct desc',
};

export const MCP_SLOWEST_TOOL_CALLS_QUERY: logs.QueryStringProps = {
  fields: ['@timestamp', 'tool', 'outcome', 'latencyMs', 'requestId'],
  filterStatements: ['msg like /^tool call/ and ispresent(latencyMs)'],
  sort: 'latencyMs desc',
  limit: 50,
};

export const MCP_TOOL_LATENCY_BY_TOOL_QUERY: logs.QueryStringProps = {
  filterStatements: ['msg like /^tool call/ and ispresent(latencyMs)'],
  statsStatements: ['count(*) as calls, pct(latencyMs, 50) as p50, pct(latencyMs, 95) as p95, max(latencyMs) as maxMs by tool'],
  sort: 'p95 desc',
};

/**
 * The link-preview Lambda (lambda/link-preview/webhook-handler.ts) logs WARN
 * "the Phenom API failed; Hasura will retry" (phenomId, failure), WARN
 * "rejected …" for bad calls, and ERROR "link preview failed"; the Lambda
 * runtime adds ERROR records for crashes and timeouts.
 */
export const LINK_PREVIEW_FAILURES_QUERY: logs.QueryStringProps = {
  fields: ['@timestamp', 'level', 'message', 'phenomId', 'failure', 'reason', 'errorType', 'errorMessage'],
  filterStatements: ['level = "ERROR" or level = "WARN"'],
  sort: '@timestamp desc',
  limit: 100,
};

/** Saved CloudWatch Logs Insights queries for the JSON logs (console: Logs Insights → Saved queries). */
export class ChatLogQueries extends Construct {
  public readonly queries: logs.QueryDefinition[] = [];

  constructor(scope: Construct, id: string, props: ChatLogQueriesProps) {
    super(scope, id);
    const folder = props.prefix;
    const add = (queryId: string, name: string, query: logs.QueryStringProps, logGroup: logs.ILogGroup) =>
      this.queries.push(
        new logs.QueryDefinition(this, queryId, {
          // A "/" in the name files the query in a folder of the console's saved-query list.
          queryDefinitionName: `${folder}/${name}`,
          queryString: new logs.QueryString(query),
          logGroups: [logGroup],
        }),
      );
    if (props.mcpServerLogGroup) {
      add('McpToolErrorRate', 'MCP tool error rate', MCP_TOOL_ERROR_RATE_QUERY, props.mcpServerLogGroup);
      add('McpSlowestToolCalls', 'MCP slowest tool calls', MCP_SLOWEST_TOOL_CALLS_QUERY, props.mcpServerLogGroup);
      add('McpToolLatency', 'MCP tool latency by tool', MCP_TOOL_LATENCY_BY_TOOL_QUERY, props.mcpServerLogGroup);
    }
    if (props.linkPreviewLogGroup) {
      add('LinkPreviewFailures', 'Link preview failures', LINK_PREVIEW_FAILURES_QUERY, props.linkPreviewLogGroup);
    }
  }
}
