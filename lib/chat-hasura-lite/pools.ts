import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { HASURA_METADATA_DIR } from './metadata';

/**
 * What one Hasura engine holds open against PostgreSQL, read from its source (graphql-engine v2,
 * server/src-lib/Hasura/App.hs and src-exec/Main.hs):
 * - the metadata pool: with no HASURA_GRAPHQL_METADATA_DATABASE_URL the metadata lives in the chat
 *   database, and the engine opens a pool of its own for it with the serve options' connection
 *   settings, i.e. HASURA_GRAPHQL_PG_CONNECTIONS (default 50) per stripe (HASURA_GRAPHQL_PG_STRIPES, 1).
 *   It carries the schema-sync poll, the metadata API and catalog migrations: a few connections at most,
 *   so 5 caps it without ever queueing;
 * - the source pool of the `default` source: `pool_settings.max_connections` of the metadata we apply
 *   (hasura-metadata/databases/databases.yaml); before the first apply, the same serve option.
 * The connection budget counts both per task.
 */
export const HASURA_METADATA_POOL_CONNECTIONS = 5;

/** `pool_settings.max_connections` of the `default` source in the metadata the applier ships; refuses metadata without one. */
export function hasuraSourcePoolMax(metadataDir: string = HASURA_METADATA_DIR): number {
  const file = join(metadataDir, 'databases', 'databases.yaml');
  const sources = parse(readFileSync(file, 'utf8')) as { name?: string; configuration?: { connection_info?: { pool_settings?: { max_connections?: unknown } } } }[];
  const source = Array.isArray(sources) ? sources.find((s) => s.name === 'default') : undefined;
  const max = source?.configuration?.connection_info?.pool_settings?.max_connections;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1) {
    throw new Error(`${file}: the default source needs configuration.connection_info.pool_settings.max_connections (a positive integer): without it Hasura opens 50 connections per task`);
  }
  return max;
}
