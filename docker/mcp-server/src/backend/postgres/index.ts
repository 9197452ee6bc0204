import { Pool, type PoolConfig } from 'pg';
import { refreshLoginOnInvalidPassword } from '../../../../../chat-clients/postgres-login';
import type { BackendFactory } from '../types';
import { PostgresBackend } from './backend';
import { SecretCredentials } from './credentials';

export { PostgresBackend } from './backend';

/**
 * Pool settings from the environment: DATABASE_URL (local mode, tests), or DB_HOST / DB_PORT /
 * DB_NAME over TLS verified against NODE_EXTRA_CA_CERTS (the image ships the RDS CA bundle), with the
 * login read from the DB_SECRET_ARN secret at run time (`secretArn`; see credentials.ts).
 */
export function postgresPoolConfig(env: NodeJS.ProcessEnv): PoolConfig & { readonly secretArn?: string } {
  const problems: string[] = [];
  const max = Number(env.PG_POOL_MAX ?? 10);
  if (!Number.isInteger(max) || max < 1) problems.push('PG_POOL_MAX must be a positive integer');
  const common: PoolConfig = {
    max,
    // A task serves many agents; give up on a connection after 5 s rather than queueing forever.
    connectionTimeoutMillis: 5_000,
    // No chat query takes more than a few ms; 10 s means the database is in trouble, so fail the call.
    statement_timeout: 10_000,
    query_timeout: 12_000,
    idleTimeoutMillis: 30_000,
    application_name: 'phenom-chat-mcp',
  };
  if (env.DATABASE_URL) {
    if (problems.length) throw new Error(`invalid postgres backend configuration:\n  ${problems.join('\n  ')}`);
    return { ...common, connectionString: env.DATABASE_URL };
  }
  for (const key of ['DB_HOST', 'DB_NAME', 'DB_SECRET_ARN']) {
    if (!env[key]) problems.push(`${key} is required for BACKEND_TYPE=postgres (or set DATABASE_URL)`);
  }
  const port = Number(env.DB_PORT ?? 5432);
  if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push('DB_PORT must be a TCP port');
  if (problems.length) throw new Error(`invalid postgres backend configuration:\n  ${problems.join('\n  ')}`);
  return {
    ...common,
    host: env.DB_HOST,
    port,
    database: env.DB_NAME,
    secretArn: env.DB_SECRET_ARN,
    // rds.force_ssl is on; verify the server certificate.
    ssl: env.DB_SSL === 'disable' ? false : { rejectUnauthorized: true },
  };
}

/** BACKEND_TYPE=postgres. AGENT_USER_ID is the users.id the agent posts and moderates as. */
export const createPostgresBackend: BackendFactory = async (ctx) => {
  const agentUserId = ctx.env.AGENT_USER_ID?.trim();
  if (!agentUserId) throw new Error('invalid postgres backend configuration:\n  AGENT_USER_ID is required for BACKEND_TYPE=postgres (the users.id the agent posts as)');
  const { secretArn, ...settings } = postgresPoolConfig(ctx.env);
  const credentials = secretArn ? new SecretCredentials(secretArn) : undefined;
  const config: PoolConfig = credentials ? { ...settings, ...(await credentials.read()) } : settings;
  const pool = new Pool(config);
  // One more connection, for /health only: the ALB asks every 30 s, so it stays open (idle 60 s), and
  // it answers even when every tool-call connection is busy. The ALB's check gives up after 5 s.
  const healthPool = new Pool({ ...config, max: 1, idleTimeoutMillis: 60_000, connectionTimeoutMillis: 2_000, statement_timeout: 2_000, query_timeout: 2_500 });
  // A rotated secret reaches new connections without a restart: a refused login re-reads it and retries once.
  if (credentials) for (const p of [pool, healthPool]) refreshLoginOnInvalidPassword(p, () => credentials.read());
  // An idle client's error (e.g. the database restarted) must not crash the process; the next query reconnects.
  for (const p of [pool, healthPool]) p.on('error', (err) => ctx.log.warn('idle postgres client error', { errorMessage: err.message }));
  ctx.log.info('postgres backend configured', { poolMax: pool.options.max, agentUserId });
  return new PostgresBackend(pool, agentUserId, healthPool);
};
