/** Set by global-setup: a superuser URL for the shared test server's `postgres` database. */
export const POSTGRES_URL_ENV = 'PHENOM_TEST_PG_URL';
export const STATE_FILE_ENV = 'PHENOM_TEST_PG_STATE';
export { ADMIN_PASSWORD, ADMIN_USER } from '../../../scripts/local-postgres/credentials';
