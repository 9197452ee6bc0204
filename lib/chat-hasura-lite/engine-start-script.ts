/**
 * How the Hasura container gets its database URL without the password ever being in
 * the template or in a plain environment variable.
 *
 * ECS injects the RDS secret's `username` and `password` as DB_USER / DB_PASSWORD
 * (task `secrets`), and the host, port and database name as plain env. Hasura wants
 * one URL, in which the credentials must be percent-encoded (an RDS-generated password
 * may hold `:`, `#`, `%`, `?`...). The image (Ubuntu, hasura/graphql-engine v2) has a
 * POSIX shell and coreutils but no node/python/jq, so the container's entrypoint is
 * `sh -c` with this script: `od` turns every byte into hex and `sed` prefixes each pair
 * with `%`. Encoding every byte, not just the reserved ones, is valid RFC 3986 and libpq
 * decodes it, and it needs no character classes that differ between shells or locales.
 *
 * rds.force_ssl is on, so the URL asks for TLS (`sslmode=require`). The image's CA
 * store does not hold the RDS CAs, so the server certificate is not verified; the
 * connection stays inside the VPC between two security groups that name each other.
 */

/** The shell function, kept separate so tests run exactly this text. */
export const URLENCODE_FUNCTION = `urlencode() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \\n' | sed 's/../%&/g'; }`;

/** The container command (`sh -c <this>`). */
export const HASURA_START_SCRIPT = [
  'set -eu',
  URLENCODE_FUNCTION,
  'HASURA_GRAPHQL_DATABASE_URL="postgres://$(urlencode "$DB_USER"):$(urlencode "$DB_PASSWORD")@$DB_HOST:$DB_PORT/$DB_NAME?sslmode=require"',
  'export HASURA_GRAPHQL_DATABASE_URL',
  // Only the engine's own variable keeps the password; nothing else in the process sees it.
  'unset DB_PASSWORD',
  'exec graphql-engine serve',
].join('\n');
