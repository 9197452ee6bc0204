import { startLocalIssuer, type LocalClient, type LocalIssuer } from '../../src/auth/local-issuer';
import { createMigratedDatabase } from '../../../../test/support/postgres/migrated';
import type { TestDatabase } from '../../../../test/support/postgres';
import { AGENT, seedChat, type ChatFixture } from './chat-fixture';
import { buildServerBundle, startServerProcess, type ServerProcess } from './server-process';

export const AGENT_CLIENT = 'agent-client-1';
export const BOTH_SCOPES = ['chat/read', 'chat/moderate'];

export interface Environment {
  db: TestDatabase;
  fixture: ChatFixture;
  issuer: LocalIssuer;
  server: ServerProcess;
  /** An access token for the allowed agent client with both scopes. */
  token: string;
  teardown(): Promise<void>;
}

/** Real PostgreSQL 17 (migrated + seeded), a local token issuer, and the bundled server as a child process. */
export async function startEnvironment(
  extraEnv: Record<string, string> | ((issuer: LocalIssuer, db: TestDatabase) => Record<string, string>) = {},
  options: { clients?: LocalClient[] } = {},
): Promise<Environment> {
  const bundle = buildServerBundle();
  const db = await createMigratedDatabase('mcp');
  const fixture = await seedChat(db.pool);
  const issuer = await startLocalIssuer({ clients: options.clients });
  const server = await startServerProcess(bundle, {
    BACKEND_TYPE: 'postgres',
    DATABASE_URL: db.url,
    AGENT_USER_ID: AGENT,
    COGNITO_USER_POOL_ID: issuer.userPoolId,
    COGNITO_JWKS_URL: issuer.jwksUrl,
    ALLOWED_CLIENT_IDS: AGENT_CLIENT,
    SHUTDOWN_GRACE_MS: '5000',
    ...(typeof extraEnv === 'function' ? extraEnv(issuer, db) : extraEnv),
  });
  return {
    db,
    fixture,
    issuer,
    server,
    token: issuer.mint({ clientId: AGENT_CLIENT, scopes: BOTH_SCOPES }),
    async teardown() {
      await server.stop();
      await issuer.close();
      await db.drop();
    },
  };
}
