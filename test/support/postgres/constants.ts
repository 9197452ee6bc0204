/** Set by global-setup: a superuser URL for the shared test server's `postgres` database. */
export const POSTGRES_URL_ENV = 'PHENOM_TEST_PG_URL';
export const STATE_FILE_ENV = 'PHENOM_TEST_PG_STATE';
export const ADMIN_USER = 'postgres';
// A throwaway password for a loopback-only server that lives for one test run.
export const ADMIN_PASSWORD = 'test-only-loopback';
