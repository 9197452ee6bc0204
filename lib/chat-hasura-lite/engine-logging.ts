import { HASURA_SEND_LOG_ENV } from '../../chat-domain/ab-log-sources';

/**
 * What the engine logs: its part of the container environment, apart from engine.ts so the log stand-ins
 * (test/support/hasura-http-log.ts, the MCP server's Hasura stand-in) run with exactly these settings
 * without loading the CDK.
 */
export const HASURA_LOGGING_ENV = {
  // jwk-refresh-log says whether the JWKS will be refetched (see jwt.ts). No query-log: it writes every
  // request's variables and generated SQL.
  HASURA_GRAPHQL_ENABLED_LOG_TYPES: 'startup,http-log,webhook-log,websocket-log,jwk-refresh-log',
  // The A/B send figures need the operation's name in every http-log line (see the constant).
  ...HASURA_SEND_LOG_ENV,
} as const;
