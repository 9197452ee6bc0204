import type { Pool, PoolConfig } from 'pg';
import { refreshLoginOnInvalidPassword } from '../../chat-clients/postgres-login';
import { readSecretJson, type SecretSourceEnv } from './secret-string';

/** The JSON an RDS-generated credentials secret holds. */
interface DatabaseSecret {
  readonly username: string;
  readonly password: string;
  readonly host?: string;
  readonly port?: number;
  readonly dbname?: string;
}

export interface DatabaseEnv extends SecretSourceEnv {
  /** A full URL; set locally and in tests. Wins over the secret. */
  readonly DATABASE_URL?: string;
  readonly DB_SECRET_ARN?: string;
  readonly DB_HOST?: string;
  readonly DB_PORT?: string;
  readonly DB_NAME?: string;
}

export interface DatabaseConfigOptions {
  /** Read the secret past every cache (after PostgreSQL refused the cached password). */
  readonly fresh?: boolean;
}

/**
 * The connection settings for the chat database: DATABASE_URL when set (local
 * mode, tests), otherwise the RDS secret (cached for 5 minutes; see secret-string.ts) with TLS verified
 * against the runtime's CA bundle.
 */
export async function databaseConfig(env: DatabaseEnv = process.env, options: DatabaseConfigOptions = {}): Promise<PoolConfig> {
  if (env.DATABASE_URL) return { connectionString: env.DATABASE_URL };
  if (!env.DB_SECRET_ARN) throw new Error('DATABASE_URL or DB_SECRET_ARN must be set');
  const secret = await readSecretJson<Partial<DatabaseSecret> | null>(env.DB_SECRET_ARN, options.fresh ? { forceFetch: true } : { maxAgeSeconds: 300 }, env);
  if (!secret?.username || !secret.password) throw new Error('the database secret has no username/password');
  return {
    host: env.DB_HOST ?? secret.host,
    port: Number(env.DB_PORT ?? secret.port ?? 5432),
    database: env.DB_NAME ?? secret.dbname,
    user: secret.username,
    password: secret.password,
    // rds.force_ssl is on; verify the server certificate (NODE_EXTRA_CA_CERTS holds the RDS CAs).
    ssl: { rejectUnauthorized: true },
  };
}

/**
 * A pool for a Lambda: created lazily once per execution environment and
 * reused across invocations. `max: 1` because one environment serves one
 * request at a time; more connections would only eat RDS's connection limit.
 * A rotated secret is picked up without a redeploy: see refreshLoginOnInvalidPassword.
 */
export function lazyPool(overrides: PoolConfig = {}, env: DatabaseEnv = process.env): () => Promise<Pool> {
  let pool: Promise<Pool> | undefined;
  return () => {
    // pg is loaded on the first call that needs a pool, not at module scope: its require() is about
    // a third of link-preview's own init CPU (bench:lambdas, Node 22: ~15 ms), and most of that
    // webhook's calls (messages that are not phenom_link) never touch the database. A function
    // that queries on every call imports pg at init itself (user-provisioner).
    pool ??= Promise.all([databaseConfig(env), import('pg')])
      .then(([config, { Pool }]) => {
        const created = new Pool({ max: 1, idleTimeoutMillis: 60_000, ...config, ...overrides });
        // An idle connection can be closed by the server (RDS reboot/failover, a DB drop). The pool
        // drops that client and reconnects on the next query; without a listener the 'error' event
        // would crash the runtime.
        created.on('error', () => undefined);
        if (!env.DATABASE_URL) {
          refreshLoginOnInvalidPassword(created, async () => {
            const { user, password } = await databaseConfig(env, { fresh: true });
            return { user: user!, password: password as string };
          });
        }
        return created;
      })
      .catch((err: unknown) => {
        pool = undefined; // let the next invocation retry (e.g. the secret was briefly unreadable)
        throw err;
      });
    return pool;
  };
}
