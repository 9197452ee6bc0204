/**
 * The `http-log` lines graphql-engine v2.48.5 (docker/hasura/Dockerfile) writes for one HTTP request, built
 * from the engine environment it runs with, as its source does (server/src-lib/Hasura/Server/Logging.hs:
 * mkHttpAccessLogContext, mkHttpErrorLogContext, addQuery, mkHttpLog; Hasura/Logging.hs: EngineLog). No engine
 * runs here, so this is the boundary the A/B log tests stand on; it refuses the settings the engine refuses
 * at start.
 */

/** Hasura.Logging userAllowedLogTypes: HASURA_GRAPHQL_ENABLED_LOG_TYPES may name only these. */
const USER_LOG_TYPES = [
  'startup',
  'http-log',
  'webhook-log',
  'websocket-log',
  'query-log',
  'execution-log',
  'livequery-poller-log',
  'action-handler-log',
  'data-connector-log',
  'jwk-refresh-log',
  'validate-insert-input-log',
];
/** defaultEnabledEngineLogTypes, when the variable is unset. */
const DEFAULT_LOG_TYPES = ['startup', 'http-log', 'webhook-log', 'websocket-log', 'jwk-refresh-log'];
/** Hasura.Server.Init.Env, instance FromEnv Bool. */
const TRUE = ['true', 't', 'yes', 'y'];
const FALSE = ['false', 'f', 'no', 'n'];
const METADATA_PATHS = ['/v1/metadata', '/v1/query'];

export interface HasuraLoggingSettings {
  readonly enabledLogTypes: ReadonlySet<string>;
  readonly metadataQueryLogging: boolean;
  readonly httpLogQueryOnlyOnError: boolean;
}

function bool(env: Readonly<Record<string, string | undefined>>, name: string): boolean {
  const raw = env[name];
  if (raw === undefined) return false;
  if (TRUE.includes(raw.toLowerCase())) return true;
  if (FALSE.includes(raw.toLowerCase())) return false;
  throw new Error(`${name}: Not a valid boolean text. True values are ${JSON.stringify(TRUE)} and  False values are ${JSON.stringify(FALSE)}`);
}

/** LoggingSettings from the engine's environment (Hasura.Server.Init), or the error the engine stops with. */
export function hasuraLoggingSettings(env: Readonly<Record<string, string | undefined>>): HasuraLoggingSettings {
  const raw = env.HASURA_GRAPHQL_ENABLED_LOG_TYPES;
  const types = raw === undefined ? DEFAULT_LOG_TYPES : raw.split(',').map((t) => t.trim().toLowerCase());
  for (const t of types) if (!USER_LOG_TYPES.includes(t)) throw new Error(`HASURA_GRAPHQL_ENABLED_LOG_TYPES: Valid list of comma-separated log types: ${JSON.stringify(USER_LOG_TYPES)}`);
  return {
    enabledLogTypes: new Set(types),
    metadataQueryLogging: bool(env, 'HASURA_GRAPHQL_ENABLE_METADATA_QUERY_LOGGING'),
    httpLogQueryOnlyOnError: bool(env, 'HASURA_GRAPHQL_HTTP_LOG_QUERY_ONLY_ON_ERROR'),
  };
}

/** A QErr as the engine encodes it (hasura-base Hasura.Base.Error, ToJSON QErr), after /v1/graphql's maybeMod200. */
export interface HasuraError {
  readonly error: string;
  readonly path: string;
  readonly code: string;
}

export interface HasuraRequest {
  /** The parsed request body; undefined for one that did not parse (logged as raw_query). */
  readonly body?: Record<string, unknown>;
  readonly rawBody?: string;
  readonly url?: string;
  /** The answer's HTTP status: 200 for every /v1/graphql answer, errors too (maybeMod200); 404 for an unknown path. */
  readonly status?: number;
  readonly requestId: string;
  readonly userVars?: Record<string, string>;
  /**
   * Service time (query_execution_time) and request read time, in seconds. Undefined for a request refused
   * before it ran (authentication, an unparsable body): mkSpockAction logs those with no timings.
   */
  readonly seconds?: number;
  readonly readSeconds?: number;
  readonly at?: Date;
}

/** addQuery: what the line's `detail.operation.query` holds. */
function loggedQuery(failed: boolean, body: Record<string, unknown> | undefined, url: string, s: HasuraLoggingSettings): unknown {
  // An included but unparsed body is Nothing, and omitted.
  if (included(failed, url, s)) return body;
  // `fmap (^? key "operationName" . _String) parsedReq`: null for a body without a string operationName.
  const field = (name: string) => (body && typeof body[name] === 'string' ? body[name] : null);
  return s.httpLogQueryOnlyOnError ? { operationName: field('operationName') } : { type: field('type') };
}

/** isQueryIncludedInLogs. */
function included(failed: boolean, url: string, s: HasuraLoggingSettings): boolean {
  if (s.httpLogQueryOnlyOnError) return failed;
  const queryLog = s.enabledLogTypes.has('query-log');
  if (queryLog && METADATA_PATHS.includes(url)) return s.metadataQueryLogging;
  return queryLog;
}

/** FormattedTime: `2026-11-14T12:01:02.345+0000`. */
const timestamp = (at: Date) => at.toISOString().replace('Z', '+0000');

/**
 * The http-log line of one request (single, not batched), or undefined when http-log is not enabled.
 * JSON key order follows the engine's generic encoding: it carries no meaning, but makes lines read alike.
 */
export function hasuraHttpLogLine(settings: HasuraLoggingSettings, request: HasuraRequest, outcome: { responseSize: number } | { error: HasuraError }): string | undefined {
  if (!settings.enabledLogTypes.has('http-log')) return undefined;
  const url = request.url ?? '/v1/graphql';
  const failed = 'error' in outcome;
  const responseSize = failed ? Buffer.byteLength(JSON.stringify(outcome.error)) : outcome.responseSize;
  const query = loggedQuery(failed, request.body, url, settings);
  const operation = {
    request_id: request.requestId,
    ...(request.userVars ? { user_vars: request.userVars } : {}),
    response_size: responseSize,
    uncompressed_response_size: responseSize,
    ...(request.seconds !== undefined ? { request_read_time: request.readSeconds ?? 0.000012, query_execution_time: request.seconds } : {}),
    ...(query !== undefined ? { query } : {}),
    ...(failed && request.body === undefined && included(true, url, settings) ? { raw_query: request.rawBody ?? '' } : {}),
    ...(failed ? { error: outcome.error } : {}),
    request_mode: failed ? 'error' : 'single',
  };
  return JSON.stringify({
    timestamp: timestamp(request.at ?? new Date('2026-11-14T12:01:02.345Z')),
    level: failed ? 'error' : 'info',
    type: 'http-log',
    detail: {
      http_info: { status: request.status ?? 200, method: 'POST', ip: '10.0.1.17', url, http_version: 'HTTP/1.1', content_encoding: null },
      operation,
      request_id: request.requestId,
    },
  });
}
