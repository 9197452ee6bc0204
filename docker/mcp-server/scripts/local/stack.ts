import { createServer } from 'node:net';
import { Client } from 'pg';
import { runMigrations } from '../../../../lambda/migrations/runner';
import { startPostgresServer } from '../../../../scripts/local-postgres/server';
import { startLocalIssuer } from '../../src/auth/local-issuer';
import { loadConfig } from '../../src/config';
import { errorFields, type Logger } from '../../src/log';
import { startServer } from '../../src/server';
import { agentClientId, type LocalOptions } from './options';

const AGENT_USER_ID = 'mcp-agent';
/** The public client an OAuth-capable MCP client (the Inspector) signs in through, as it would through Cognito's. */
const LOCAL_INTERACTIVE_CLIENT_ID = 'local-interactive';
const DATABASE = 'phenom_chat';
const TOKEN_TTL_SECONDS = 12 * 3600;
const HOST = '127.0.0.1';

/** The port is taken: said plainly, with what to do, before anything was started. */
export class PortInUseError extends Error {
  constructor(port: number) {
    super(`port ${port} on ${HOST} is already in use (another npm run local?). Stop that process, or pick another port: PORT=${port + 1} npm run local`);
  }
}

export interface LocalStack {
  /** KEY=value lines for stdout: MCP_URL, the tokens, the authorization server, DATABASE_URL. */
  readonly variables: string[];
  /** The embedded PostgreSQL's temporary folder (removed by stop). */
  readonly dataDir: string;
  /** Lets in-flight calls finish (SHUTDOWN_GRACE_MS), then stops the issuer and PostgreSQL and removes its folder. */
  stop(): Promise<void>;
}

/** Resolves when `port` can be listened on, rejects with PortInUseError when it cannot. */
function ensurePortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new PortInUseError(port) : err));
    probe.listen(port, HOST, () => probe.close(() => resolve()));
  });
}

/**
 * The whole MCP stack on loopback: an embedded PostgreSQL 17 with the migrations (and the seeded
 * rooms), the agent as admin member of every room, a loopback authorization server whose tokens
 * the server verifies exactly as it verifies Cognito's, and the server (BACKEND_TYPE=postgres).
 * `cancelled` is checked between steps: a stop asked for while starting undoes what was started.
 */
export async function startLocalStack(options: LocalOptions, log: Logger, cancelled: () => boolean): Promise<LocalStack> {
  await ensurePortFree(options.port);
  const cleanups: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((err: unknown) => log.warn('cleanup failed', errorFields(err)));
  };
  const step = async <T>(run: () => Promise<T>): Promise<T> => {
    const value = await run();
    if (cancelled()) throw new Error('stopped while starting');
    return value;
  };
  try {
    const pg = await step(async () => {
      const server = await startPostgresServer();
      cleanups.push(() => server.stop());
      return server;
    });
    const databaseUrl = pg.url.replace(/\/postgres$/, `/${DATABASE}`);
    await step(async () => {
      const admin = new Client({ connectionString: pg.url });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${DATABASE}`).finally(() => admin.end());
      const db = new Client({ connectionString: databaseUrl });
      await db.connect();
      try {
        const { applied } = await runMigrations(db);
        await db.query(`INSERT INTO users (id, username, display_name) VALUES ($1, 'mcp-agent', 'MCP Agent') ON CONFLICT (id) DO NOTHING`, [AGENT_USER_ID]);
        await db.query(`INSERT INTO chat_members (room_id, user_id, role) SELECT id, $1, 'admin' FROM chat_rooms ON CONFLICT (room_id, user_id) DO NOTHING`, [AGENT_USER_ID]);
        log.info('database ready', { migrations: applied.length, dataDir: pg.root });
      } finally {
        await db.end();
      }
    });

    const scopes = ['chat/read', 'chat/moderate'];
    const issuer = await step(async () => {
      const started = await startLocalIssuer({ clients: [{ clientId: LOCAL_INTERACTIVE_CLIENT_ID, scopes, groups: ['chat-admin'] }] });
      cleanups.push(() => started.close());
      return started;
    });
    const agentIds = Array.from({ length: options.agents }, (_, i) => agentClientId(i + 1));
    const config = loadConfig({
      PORT: String(options.port),
      HOST,
      BACKEND_TYPE: 'postgres',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      COGNITO_USER_POOL_ID: issuer.userPoolId,
      COGNITO_JWKS_URL: issuer.jwksUrl,
      // The protected-resource metadata names the loopback issuer, which answers (RFC 8414
      // metadata, JWKS, code + PKCE for the interactive client), not a Cognito pool that does not exist.
      AUTHORIZATION_SERVER_URL: issuer.url,
      ALLOWED_CLIENT_IDS: agentIds.join(','),
      INTERACTIVE_CLIENT_IDS: LOCAL_INTERACTIVE_CLIENT_ID,
      AUTH_MODE: options.noAuth ? 'none' : 'cognito',
      MCP_RESOURCE_URL: `http://${HOST}:${options.port}/mcp`,
      RATE_LIMIT_PER_MINUTE: String(options.rateLimitPerMinute),
      RATE_LIMIT_BURST: String(options.rateLimitBurst),
      // The MCP Inspector's web UI, for users who connect it directly rather than through its proxy.
      ALLOWED_ORIGINS: 'http://localhost:6274,http://127.0.0.1:6274',
      SHUTDOWN_GRACE_MS: '5000',
    });
    const server = await step(async () => {
      const started = await startServer({ config, log, env: { DATABASE_URL: databaseUrl, AGENT_USER_ID, PG_POOL_MAX: '5' } }).catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'EADDRINUSE' ? new PortInUseError(options.port) : err; // taken since the probe
      });
      cleanups.push(() => started.shutdown());
      return started;
    });

    const tokens = options.noAuth ? [] : agentIds.map((clientId) => issuer.mint({ clientId, scopes, ttlSeconds: TOKEN_TTL_SECONDS }));
    const variables = [
      `MCP_URL=${server.baseUrl}/mcp`,
      ...tokens.map((token, i) => `${i === 0 ? 'MCP_TOKEN' : `MCP_TOKEN_${i + 1}`}=${token}`),
      // With --no-auth the server advertises no authorization server, so none is printed.
      ...(options.noAuth ? [] : [`MCP_AUTHORIZATION_SERVER=${issuer.url}`, `MCP_INTERACTIVE_CLIENT_ID=${LOCAL_INTERACTIVE_CLIENT_ID}`]),
      `DATABASE_URL=${databaseUrl}`,
    ];
    return { variables, dataDir: pg.root, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
