import { AB_DIMENSIONS, AB_METRICS, AbBackend } from './ab-metrics';

/**
 * The A/B figures that exist only as log lines, and how each becomes metrics: a CloudWatch Logs
 * subscription filter with `filterPattern` sends the matching lines of one log group to the
 * ab-log-metrics Lambda, which turns each line into `data(line)` and publishes them to Phenom/AB with
 * the Environment and Backend dimensions (metric filters cannot add a dimension that is not a field of
 * the line). Lib and the Lambda read this one module, so the pattern and the extraction never disagree.
 */
export interface AbLogDatum {
  readonly metric: string;
  readonly value: number;
  readonly unit: 'Milliseconds' | 'Count';
  /** Dimensions beyond Environment and Backend (e.g. Tool). */
  readonly dimensions?: Record<string, string>;
}

export interface AbLogSource {
  /** Also the subscription filter's name suffix, by which the Lambda tells the sources apart. */
  readonly id: string;
  /** CloudWatch Logs JSON filter pattern. */
  readonly filterPattern: string;
  /** The backend the figures count for; undefined: the deployment says (the MCP server's backend). */
  readonly backend?: AbBackend;
  /** The metrics of one matching line; [] for a line that does not carry them after all. */
  data(line: Record<string, unknown>): AbLogDatum[];
}

/** The send mutation's operation name (docker/mcp-server/src/backend/hasura/documents.ts). */
export const HASURA_SEND_OPERATION = 'SendMessage';

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** The subscription filter's name for `source`: the Lambda reads the source back from it. */
export const abLogFilterName = (source: AbLogSource) => `phenom-ab-${source.id}`;

export const AB_LOG_SOURCES = {
  /**
   * Hasura's http-log of the send mutation (graphql-engine Hasura.Server.Logging, OperationLog: `query` holds
   * the request's operationName, `query_execution_time` is seconds, `error` is present only on failure, and
   * GraphQL errors still answer HTTP 200).
   *
   * Unconfirmed against a running engine, and probably incomplete: graphql-engine issue #8481 says that at
   * the info log level an http-log line carries `query` (and so the operationName) only for a failed
   * request, and graphql-engine's own logging test sets the debug level to see it on a successful one.
   * Then this filter matches only failures. Matching successes too needs the query-log joined on
   * request_id, or the debug level; see README "Reading the A/B comparison".
   */
  hasuraSend: {
    id: 'hasura-send',
    backend: 'hasura-lite',
    filterPattern: `{ ($.type = "http-log") && ($.detail.operation.query.operationName = "${HASURA_SEND_OPERATION}") }`,
    data(line) {
      const detail = obj(line.detail);
      const operation = obj(detail.operation);
      const seconds = num(operation.query_execution_time);
      const status = num(obj(detail.http_info).status);
      const failed = operation.error !== undefined && operation.error !== null ? 1 : status !== undefined && status >= 400 ? 1 : 0;
      return [
        { metric: AB_METRICS.sendAttempts, value: 1, unit: 'Count' },
        { metric: AB_METRICS.sendErrors, value: failed, unit: 'Count' },
        ...(seconds !== undefined ? [{ metric: AB_METRICS.sendLatency, value: Math.round(seconds * 1_000_000) / 1000, unit: 'Milliseconds' as const }] : []),
      ];
    },
  },
  /** The MCP server's `tool call` lines (docker/mcp-server/src/mcp/server-factory.ts): tool, outcome, latencyMs. */
  mcpTools: {
    id: 'mcp-tools',
    filterPattern: '{ ($.msg = "tool call*") && ($.latencyMs >= 0) }',
    data(line) {
      const latency = num(line.latencyMs);
      if (latency === undefined || typeof line.tool !== 'string') return [];
      const dimensions = { [AB_DIMENSIONS.tool]: line.tool };
      return [
        { metric: AB_METRICS.mcpToolLatency, value: latency, unit: 'Milliseconds', dimensions },
        // Only the server's own failures: a ChatError outcome is the caller's mistake, answered correctly.
        { metric: AB_METRICS.mcpToolErrors, value: line.outcome === 'internal_error' ? 1 : 0, unit: 'Count', dimensions },
      ];
    },
  },
  /** Lambda's JSON report line, one per invocation of the link-preview webhook (Hasura Lite's event trigger). */
  linkPreview: {
    id: 'link-preview',
    backend: 'hasura-lite',
    filterPattern: '{ ($.type = "platform.report") && ($.record.metrics.durationMs >= 0) }',
    data(line) {
      const ms = num(obj(obj(line.record).metrics).durationMs);
      return ms === undefined ? [] : [{ metric: AB_METRICS.linkPreviewTime, value: ms, unit: 'Milliseconds' }];
    },
  },
} satisfies Record<string, AbLogSource>;
