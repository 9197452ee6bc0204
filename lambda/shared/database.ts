import { Pool, PoolConfig } from 'pg';
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

/** SQLSTATE 28P01 invalid_password: PostgreSQL refused the login (also sent for an unknown user). */
export const INVALID_PASSWORD = '28P01';

export function isInvalidPassword(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === INVALID_PASSWORD;
}

export interface LoginCredentials {
  readonly user: string;
  readonly password: string;
}

/**
 * Makes `pool` survive a rotated secret: when PostgreSQL refuses a login with 28P01, the credentials are
 * read again (`fresh`, past every cache), new connections use them, and the refused call is made once
 * more. Retrying is safe because 28P01 comes during authentication, before any statement ran. Connections
 * already open stay as they are: a password change does not end a PostgreSQL session. pg-pool builds
 * every new client from `pool.options` (`new this.Client(this.options)` in pg-pool's newClient), so
 * setting user and password there is what switches new connections; the user changes too, because the
 * alternating-users rotation moves the secret between `<role>` and `<role>_clone`.
 */
export function refreshLoginOnInvalidPassword(pool: Pool, fresh: () => Promise<LoginCredentials>): void {
  let refreshing: Promise<void> | undefined;
  const refresh = () =>
    (refreshing ??= fresh()
      .then(({ user, password }) => {
        pool.options.user = user;
        pool.options.password = password;
      })
      .finally(() => {
        refreshing = undefined;
      }));
  const retried = <F extends (...args: never[]) => unknown>(call: F): F =>
    ((...args: Parameters<F>) => {
      // The callback forms are left alone: pg-pool's own query() takes its connection through connect(callback).
      if (typeof args[args.length - 1] === 'function') return call(...args);
      return (call(...args) as Promise<unknown>).catch(async (err: unknown) => {
        if (!isInvalidPassword(err)) throw err;
        await refresh();
        return call(...args);
      });
    }) as F;
  pool.query = retried(pool.query.bind(pool) as Pool['query']);
  pool.connect = retried(pool.connect.bind(pool) as Pool['connect']);
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
    pool ??= databaseConfig(env)
      .then((config) => {
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
