import type { Pool } from 'pg';

// Shared by the Lambdas (lambda/shared/database.ts) and the MCP server's postgres backend. Type-only
// imports: the MCP image bundles this file from outside its package, where pg does not resolve.

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
