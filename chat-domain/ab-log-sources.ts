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
  /**
   * The metrics of one matching line; [] for a line of something else (the pattern is the filter, this
   * the check). Throws MalformedLogLine for a line that should carry them and does not.
   */
  data(line: Record<string, unknown>): AbLogDatum[];
}

/** The send mutation's operation name (docker/mcp-server/src/backend/hasura/documents.ts). */
export const HASURA_SEND_OPERATION = 'SendMessage';

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** The subscription filter's name for `source`: the Lambda reads the source back from it. */
export const abLogFilterName = (source: AbLogSource) => `phenom-ab-${source.id}`;

/**
 * The engine settings the Hasura source needs, set on the engine (lib/chat-hasura-lite/engine.ts) from
 * here so the setting and the pattern that relies on it cannot drift apart.
 *
 * graphql-engine v2.48.5 (server/src-lib/Hasura/Server/Logging.hs, `addQuery`) writes an http-log's
 * `detail.operation.query` as: with HTTP_LOG_QUERY_ONLY_ON_ERROR, `{"operationName": …}` on success and the
 * whole request body on failure; otherwise, with `query-log` enabled, the whole request body always; otherwise
 * `{"type": null}` for every GraphQL request, which names no operation at all (the v2.36.8 release notes say
 * the same of the setting: operationName in the query field for successful requests). So without it the
 * source matched nothing. It is chosen over query-log, which would also name the operation, because
 * query-log writes a second line per request with the variables and the generated SQL: several times the
 * log volume, every message body in the logs, and a join on request_id across subscription batches. The
 * price of this setting: a failed request's line carries its request body (for a failed send, the message).
 */
export const HASURA_SEND_LOG_ENV = { HASURA_GRAPHQL_HTTP_LOG_QUERY_ONLY_ON_ERROR: 'true' } as const;

/** A matched line that lacks what its system always writes: nothing is published for it, and the Lambda says so. */
export class MalformedLogLine extends Error {}

export const AB_LOG_SOURCES = {
  /**
   * Hasura's http-log of the send mutation, success or failure (graphql-engine v2.48.5 Hasura.Server.Logging,
   * OperationLog; Hasura.Server.App mkSpockAction). A failure is a QErr, logged with `error` and level "error";
   * /v1/graphql maps its status to 200 (maybeMod200), so the status alone does not tell one. A request refused
   * before it ran (a bad token, an unparsable body) is logged without its parsed body, so it names no operation
   * and is not counted: the backend served no send. Every line that names one has the service time
   * `query_execution_time` (seconds).
   */
  hasuraSend: {
    id: 'hasura-send',
    backend: 'hasura-lite',
    filterPattern: `{ ($.type = "http-log") && ($.detail.operation.query.operationName = "${HASURA_SEND_OPERATION}") }`,
    data(line) {
      const detail = obj(line.detail);
      const operation = obj(detail.operation);
      if (obj(operation.query).operationName !== HASURA_SEND_OPERATION) return [];
      const status = num(obj(detail.http_info).status);
      const failed = (operation.error !== undefined && operation.error !== null) || (status !== undefined && status >= 400);
      const seconds = num(operation.query_execution_time);
      if (seconds === undefined) throw new MalformedLogLine('an http-log line of the send mutation without a number of seconds in detail.operation.query_execution_time');
      return [
        { metric: AB_METRICS.sendAttempts, value: 1, unit: 'Count' },
        { metric: AB_METRICS.sendErrors, value: failed ? 1 : 0, unit: 'Count' },
        { metric: AB_METRICS.sendLatency, value: Math.round(seconds * 1_000_000) / 1000, unit: 'Milliseconds' },
      ];
    },
  },
  /** The MCP server's `tool call` lines (docker/mcp-server/src/mcp/server-factory.ts): tool, outcome, latencyMs. */
  mcpTools: {
    id: 'mcp-tools',
    filterPattern: '{ ($.msg = "tool call*") && ($.latencyMs >= 0) }',
    data(line) {
      const latency = num(line.latencyMs);
      if (latency === undefined || typeof line.tool !== 'string') throw new MalformedLogLine('a tool call line without a numeric latencyMs and a tool name');
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
      if (ms === undefined) throw new MalformedLogLine('a platform.report line without a numeric record.metrics.durationMs');
      return [{ metric: AB_METRICS.linkPreviewTime, value: ms, unit: 'Milliseconds' }];
    },
  },
} satisfies Record<string, AbLogSource>;
