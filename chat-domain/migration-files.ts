import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/*
 * The sql/ migration files as the deploy reads them: the construct hashes them at synth (so a
 * changed file re-runs the step) and the migrations Lambda applies them, from the same reader.
 */

/** `NNN-name.sql`: the number fixes the order; lower-case words keep names portable. */
export const MIGRATION_FILE = /^(\d{3})-[a-z0-9][a-z0-9-]*\.sql$/;

export interface MigrationFile {
  readonly name: string;
  readonly sql: string;
  /** sha256 hex of the file with line endings normalised (a CRLF checkout is the same file). */
  readonly checksum: string;
}

export class MigrationError extends Error {
  constructor(
    message: string,
    /** The migration file at fault, when one is. */
    readonly file?: string,
    /** The Postgres error, when Postgres raised one. */
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'MigrationError';
  }
}

export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
}

/** The migration files of `sqlDir` in the order they apply; rejects a malformed set. */
export function readMigrations(sqlDir: string): MigrationFile[] {
  if (!existsSync(sqlDir)) throw new MigrationError(`migrations directory ${sqlDir} does not exist`);
  const names = readdirSync(sqlDir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  const badNames = names.filter((n) => !MIGRATION_FILE.test(n));
  if (badNames.length) {
    throw new MigrationError(`migration file names must look like NNN-name.sql (lower case): ${badNames.join(', ')}`, badNames[0]);
  }
  const seen = new Map<string, string>();
  for (const name of names) {
    const number = name.slice(0, 3);
    const other = seen.get(number);
    if (other) throw new MigrationError(`two migrations share the number ${number}: ${other} and ${name}`, name);
    seen.set(number, name);
  }
  return names.map((name) => {
    const sql = readFileSync(path.join(sqlDir, name), 'utf8');
    return { name, sql, checksum: checksumOf(sql) };
  });
}
