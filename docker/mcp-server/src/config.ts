import { z } from 'zod';
import { ALB_PEER_RANGES, createClientIpSource, type EdgeProvider } from '../../../chat-domain/client-ip';
import { MODERATOR_GROUPS } from '../../../chat-domain/groups';
import type { LogLevel } from './log';

/** Comma-separated list → trimmed, non-empty entries. */
const list = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
);

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/**
 * Server settings, all from the environment (the ECS task definition sets them; secrets arrive
 * through ECS `secrets`, never plain environment). Backend-specific keys (DATABASE_URL,
 * HASURA_ENDPOINT, SYNAPSE_URL…) are read by each backend, not here.
 */
const EnvSchema = z.object({
  PORT: positiveInt(3001),
  /** 0.0.0.0 in the container; local mode binds 127.0.0.1. */
  HOST: z.string().default('0.0.0.0'),
  BACKEND_TYPE: z.enum(['postgres', 'hasura', 'synapse']).default('hasura'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** The Cognito user pool whose access tokens are accepted (e.g. us-east-1_AbC123). */
  COGNITO_USER_POOL_ID: z.string().min(1, 'COGNITO_USER_POOL_ID must name the user pool that issues agent tokens'),
  /**
   * Local mode and tests only: where to fetch the pool's JWKS instead of Cognito. Must be a
   * loopback http(s) URL, so a misconfigured deployment cannot be pointed at a foreign key set.
   */
  COGNITO_JWKS_URL: z
    .url()
    .refine((u) => ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(u).hostname), 'COGNITO_JWKS_URL must be a loopback URL (local mode only)')
    .optional(),
  /** App client ids whose access tokens may call the server (C3: the agent client). */
  ALLOWED_CLIENT_IDS: list.refine((l) => l.length > 0, 'ALLOWED_CLIENT_IDS must list at least one app client id'),
  /** The public URL of the MCP endpoint (RFC 9728 `resource`), e.g. https://chat.thephenom.app/mcp. */
  MCP_RESOURCE_URL: z.url().optional(),
  READ_SCOPE: z.string().default('chat/read'),
  MODERATE_SCOPE: z.string().default('chat/moderate'),
  /** Cognito groups that may moderate without the moderate scope (user tokens of support staff). */
  MODERATOR_GROUPS: list.default([...MODERATOR_GROUPS]),
  /**
   * Exact origins (scheme://host[:port]) a browser-borne request may come from; others get 403.
   * When MCP_RESOURCE_URL is on loopback, localhost origins on any port are allowed as well.
   */
  ALLOWED_ORIGINS: list.default([]),
  /**
   * The user pool's hosted-UI domain (e.g. phenom-development-chat.auth.us-east-1.amazoncognito.com).
   * When set, this server publishes RFC 8414 metadata for it at its own origin and names its origin
   * as the authorization server: Cognito's own discovery document omits code_challenge_methods_supported,
   * and MCP 2025-11-25 clients refuse an authorization server that does not advertise S256.
   */
  COGNITO_DOMAIN: z
    .string()
    .regex(/^[a-z0-9.-]+$/, 'COGNITO_DOMAIN must be a bare host name (no scheme or path)')
    .optional(),
  /** The authorization server to advertise instead (local mode: its loopback issuer). */
  AUTHORIZATION_SERVER_URL: z.url().optional(),
  /** Public app clients people sign in through (authorization code + PKCE); added to the allow-list. */
  INTERACTIVE_CLIENT_IDS: list.default([]),
  /**
   * `none`: serve without tokens, every caller acting as one local agent with both scopes. Local
   * mode only (`npm run local -- --no-auth`, for the official conformance suite and quick trials):
   * refused unless HOST and MCP_RESOURCE_URL are both loopback.
   */
  AUTH_MODE: z.enum(['cognito', 'none']).default('cognito'),
  /** Largest accepted request body; a 4000-character message is at most 16 KiB of UTF-8. */
  MAX_BODY_BYTES: positiveInt(64 * 1024),
  /** Per-agent (app client) token bucket: sustained requests per minute and burst size. */
  RATE_LIMIT_PER_MINUTE: positiveInt(600),
  RATE_LIMIT_BURST: positiveInt(60),
  /**
   * How long SIGTERM waits for in-flight requests. Keep it below the target group's deregistration
   * delay and the task's stopTimeout, so the ALB stops routing before the process goes.
   */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(25_000),
  /**
   * What is in front of the ALB (config edge.provider): which client address the access log records,
   * chosen as Synapse's edge proxy chooses it (chat-domain/client-ip.ts).
   */
  EDGE_PROVIDER: z.enum(['cloudflare', 'none']).default('none'),
  /** Peers believed to be the ALB (their last X-Forwarded-For entry is the address the ALB saw); tests use loopback. */
  ALB_PEER_CIDRS: list.default([...ALB_PEER_RANGES]).refine((cidrs) => {
    try {
      createClientIpSource('none', cidrs);
      return cidrs.length > 0;
    } catch {
      return false;
    }
  }, 'ALB_PEER_CIDRS must list CIDR blocks such as 10.0.0.0/8'),
});

export interface ServerConfig {
  port: number;
  host: string;
  backendType: 'postgres' | 'hasura' | 'synapse';
  logLevel: LogLevel;
  userPoolId: string;
  region: string;
  issuer: string;
  jwksUrl?: string;
  allowedClientIds: string[];
  resourceUrl: string;
  readScope: string;
  moderateScope: string;
  moderatorGroups: string[];
  allowedOrigins: string[];
  /** Host names (no port) /mcp and the metadata answer for; anything else is DNS rebinding. */
  allowedHosts: string[];
  /** Whether the resource is on loopback (local mode): localhost hosts and origins on any port. */
  loopback: boolean;
  /** The hosted-UI domain whose RFC 8414 metadata this server publishes, if any. */
  cognitoDomain?: string;
  /** What the protected-resource metadata names as authorization server. */
  authorizationServer: string;
  authMode: 'cognito' | 'none';
  maxBodyBytes: number;
  rateLimitPerMinute: number;
  rateLimitBurst: number;
  shutdownGraceMs: number;
  edgeProvider: EdgeProvider;
  albPeerCidrs: string[];
}

/** Loopback host names as URL.hostname spells them (IPv6 in brackets). */
export const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

const USER_POOL_ID = /^(?<region>[a-z]{2}(?:-gov)?-[a-z]+-\d)_[A-Za-z0-9]+$/;

/** Parses the environment; throws one Error naming every bad key. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid MCP server configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  const match = USER_POOL_ID.exec(e.COGNITO_USER_POOL_ID);
  if (!match?.groups) throw new Error(`invalid MCP server configuration:\n  COGNITO_USER_POOL_ID: "${e.COGNITO_USER_POOL_ID}" is not a user pool id (region_id)`);
  const region = match.groups.region;
  const issuer = `https://cognito-idp.${region}.amazonaws.com/${e.COGNITO_USER_POOL_ID}`;
  const resourceUrl = e.MCP_RESOURCE_URL ?? `http://localhost:${e.PORT}/mcp`;
  const resource = new URL(resourceUrl);
  const loopback = LOOPBACK_HOSTS.includes(resource.hostname);
  if (e.AUTH_MODE === 'none' && !(loopback && ['localhost', '127.0.0.1', '::1'].includes(e.HOST))) {
    throw new Error('invalid MCP server configuration:\n  AUTH_MODE: "none" is for local mode only: HOST and MCP_RESOURCE_URL must both be loopback');
  }
  return {
    port: e.PORT,
    host: e.HOST,
    backendType: e.BACKEND_TYPE,
    logLevel: e.LOG_LEVEL,
    userPoolId: e.COGNITO_USER_POOL_ID,
    region,
    issuer,
    jwksUrl: e.COGNITO_JWKS_URL,
    allowedClientIds: [...new Set([...e.ALLOWED_CLIENT_IDS, ...e.INTERACTIVE_CLIENT_IDS])],
    resourceUrl,
    readScope: e.READ_SCOPE,
    moderateScope: e.MODERATE_SCOPE,
    moderatorGroups: e.MODERATOR_GROUPS,
    allowedOrigins: e.ALLOWED_ORIGINS,
    allowedHosts: loopback ? LOOPBACK_HOSTS : [resource.hostname],
    loopback,
    cognitoDomain: e.COGNITO_DOMAIN,
    authorizationServer: e.AUTHORIZATION_SERVER_URL ?? (e.COGNITO_DOMAIN ? resource.origin : issuer),
    authMode: e.AUTH_MODE,
    maxBodyBytes: e.MAX_BODY_BYTES,
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    rateLimitBurst: e.RATE_LIMIT_BURST,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    edgeProvider: e.EDGE_PROVIDER,
    albPeerCidrs: e.ALB_PEER_CIDRS,
  };
}
