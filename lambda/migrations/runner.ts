import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { ClientBase, DatabaseError } from 'pg';
import { MIGRATION_FILE, MigrationError, MigrationFile, readMigrations } from '../../chat-domain/migration-files';
import { CHAT_SCHEMA_OWNER, ensureSchemaOwner } from './schema-owner';

export { checksumOf, MigrationError, readMigrations, type MigrationFile } from '../../chat-domain/migration-files';

/** Where applied migrations are recorded (one row per file). */
export const MIGRATIONS_TABLE = 'chat_schema_migrations';

/**
 * Key of the session-level advisory lock that serialises runs (two deploys, or a
 * deploy and a local `db:migrate`). A fixed 64-bit number: the first 8 bytes of
 * sha256('phenom-chat:migrations'), so it won't collide with Synapse's or Hasura's locks.
 */
export const MIGRATIONS_LOCK_KEY = createHash('sha256').update('phenom-chat:migrations').digest().readBigInt64BE(0).toString();

export interface RunMigrationsOptions {
  /** @default - `sql/` next to this module in the Lambda bundle, else the repository's `sql/` */
  readonly sqlDir?: string;
  /**
   * How long one statement of a migration may wait for a table lock before the file fails.
   * An ALTER TABLE that queues behind a long query blocks every later query on that table,
   * so a deploy should fail clearly rather than stall the chat.
   * @default 60000
   */
  readonly lockTimeoutMs?: number;
  /**
   * Epoch ms by which the run must have stopped (the deploy step's Lambda time less a margin).
   * Waiting for another run's lock, and each file, get what is left as their lock, statement and
   * transaction timeout, so Postgres cancels and rolls back a migration that would overrun and
   * the run fails with a message instead of the Lambda being killed mid-transaction.
   * @default - no limit (a local `db:migrate`)
   */
  readonly deadline?: number;
  /**
   * The NOLOGIN role that owns the chat schema; each file runs as it (schema-owner.ts). Roles are
   * cluster-wide, so a test whose migrating login is not a superuser names one of its own.
   * @default 'chat_owner'
   */
  readonly schemaOwner?: string;
}

export interface MigrationResult {
  /** Files applied by this run, in order. */
  readonly applied: string[];
  /** Files of the directory that had been applied before (checksums verified). */
  readonly alreadyApplied: string[];
  /**
   * Migrations recorded in the database with a number above the directory's newest: a newer
   * release applied them, and this (older) code leaves them in place. Non-empty on a rollback.
   */
  readonly newerThanDirectory: string[];
}

/** A migration run that stopped; the message names the file and the Postgres error. */

/**
 * The SQL directory: in the Lambda bundle the files are copied next to the handler
 * (`/var/task/sql`); from the source tree it is the repository's `sql/`.
 */
export function defaultSqlDir(): string {
  const candidates = [path.join(__dirname, 'sql'), path.join(__dirname, '..', '..', 'sql')];
  const found = candidates.find((dir) => existsSync(dir));
  if (!found) throw new MigrationError(`no sql/ directory found (looked in ${candidates.join(', ')})`);
  return found;
}

/** "file: message (SQLSTATE x) at line n" plus Postgres' detail and hint when it gave them. */
function describePostgresError(file: MigrationFile, err: unknown): string {
  const pgErr = err as Partial<DatabaseError> & { message?: string };
  const parts = [pgErr.message ?? String(err)];
  if (pgErr.code) parts.push(`(SQLSTATE ${pgErr.code})`);
  if (pgErr.position) {
    const line = file.sql.slice(0, Number(pgErr.position)).split('\n').length;
    parts.push(`at line ${line}`);
  }
  let text = parts.join(' ');
  if (pgErr.detail) text += `; detail: ${pgErr.detail}`;
  if (pgErr.hint) text += `; hint: ${pgErr.hint}`;
  if (pgErr.where) text += `; where: ${pgErr.where}`;
  return text;
}

interface AppliedRow {
  name: string;
  checksum: string;
}

/**
 * Applies every `NNN-*.sql` not applied yet, in order, each in its own transaction,
 * and records it with its checksum. A session advisory lock makes concurrent runs
 * queue behind each other (the second then finds nothing to do). Statements that
 * cannot run in a transaction (CREATE INDEX CONCURRENTLY) are therefore not supported.
 *
 * Migrations are forward-only, and the directory may be older than the database: on a
 * rollback CloudFormation runs the previous release's code, which lacks the migrations
 * the failed release applied. Those are reported in `newerThanDirectory` and left alone
 * (sql/README.md: every migration stays compatible with the previous release's code).
 * Everything is checked before anything is applied; see `planRun` for what is refused.
 */
export async function runMigrations(client: ClientBase, options: RunMigrationsOptions = {}): Promise<MigrationResult> {
  const files = readMigrations(options.sqlDir ?? defaultSqlDir());
  const lockTimeoutMs = options.lockTimeoutMs ?? 60_000;
  if (!Number.isInteger(lockTimeoutMs) || lockTimeoutMs < 0) throw new MigrationError(`lockTimeoutMs must be a non-negative integer, got ${lockTimeoutMs}`);
  // transaction_timeout ends the session; its 'error' event must not crash the process (the query rejects with the reason).
  const ignoreTermination = () => undefined;
  client.on('error', ignoreTermination);
  try {
    await acquireRunLock(client, options.deadline);
  } catch (err) {
    client.removeListener('error', ignoreTermination);
    throw err;
  }
  try {
    await client.query(`
      CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
        name        TEXT PRIMARY KEY,
        checksum    TEXT NOT NULL,
        applied_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
        duration_ms INTEGER NOT NULL
      )`);
    const { rows } = await client.query<AppliedRow>(`SELECT name, checksum FROM ${MIGRATIONS_TABLE} ORDER BY name`);
    const plan = planRun(files, rows);
    const owner = options.schemaOwner ?? CHAT_SCHEMA_OWNER;
    await ensureSchemaOwner(client, owner, [MIGRATIONS_TABLE]);

    const applied: string[] = [];
    for (const file of plan.pending) {
      await applyOne(client, file, owner, lockTimeoutMs, options.deadline);
      applied.push(file.name);
    }
    return { applied, alreadyApplied: plan.alreadyApplied, newerThanDirectory: plan.newerThanDirectory };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATIONS_LOCK_KEY]).catch(() => undefined);
    client.removeListener('error', ignoreTermination);
  }
}

/** Milliseconds left before `deadline`, or a MigrationError saying what could not start. */
function timeLeft(deadline: number, what: string, file?: string): number {
  const left = Math.floor(deadline - Date.now());
  if (left < 1_000) {
    throw new MigrationError(`no time left for ${what} within this deploy step's time budget; the files applied so far stay applied and the next deploy goes on from there`, file);
  }
  return left;
}

/** The session advisory lock, waiting at most until the deadline for a concurrent run to finish. */
async function acquireRunLock(client: ClientBase, deadline: number | undefined): Promise<void> {
  if (deadline === undefined) {
    await client.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATIONS_LOCK_KEY]);
    return;
  }
  const waitMs = timeLeft(deadline, 'taking the migrations lock');
  // lock_timeout bounds advisory lock waits too; it is a session setting here because the lock outlives transactions.
  await client.query(`SELECT set_config('lock_timeout', $1, false)`, [`${waitMs}ms`]);
  try {
    await client.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATIONS_LOCK_KEY]);
  } catch (err) {
    if ((err as Partial<DatabaseError>).code === '55P03') {
      throw new MigrationError(
        `another migration run held the migrations lock for the whole time budget of this step (${Math.round(waitMs / 1000)} s); ` +
          'let it finish (see pg_stat_activity for a session waiting on or holding an advisory lock) and deploy again',
        undefined,
        err,
      );
    }
    throw err;
  } finally {
    await client.query('RESET lock_timeout').catch(() => undefined);
  }
}

interface RunPlan {
  readonly pending: MigrationFile[];
  readonly alreadyApplied: string[];
  readonly newerThanDirectory: string[];
}

const numberOf = (name: string): number => Number(name.slice(0, 3));

/**
 * What a run will do, or a MigrationError before anything is applied. A migration is
 * identified by its number; its name is only a label.
 * - Applied and in the directory with the same checksum: done.
 * - Applied with another checksum than the directory's file of that number: refused. Either
 *   an applied file was edited, or two different migrations got one number (parallel
 *   branches); the database and this code disagree about the schema.
 * - Applied, and numbered above the directory's newest file: a newer release's migration.
 *   Kept, reported, and the run succeeds (the rollback case).
 * - Applied, missing from the directory, but numbered below its newest file (a gap): refused.
 *   A rollback only ever drops migrations from the top, because each release appends
 *   migrations numbered above all earlier ones; a hole in the middle means this directory is
 *   not an earlier state of the database's history (a deleted file, or a branch that never
 *   had that migration), so its files cannot be trusted to match the schema.
 * - Not applied, but numbered below a migration that is (out of order): refused, for the
 *   same reason: the file was written against a schema without the later migration.
 */
function planRun(files: MigrationFile[], appliedRows: AppliedRow[]): RunPlan {
  const byNumber = new Map(files.map((f) => [numberOf(f.name), f]));
  const newestInDirectory = files.length ? numberOf(files[files.length - 1].name) : -1;
  const appliedNumbers = new Set<number>();
  const alreadyApplied: string[] = [];
  const newerThanDirectory: string[] = [];
  for (const row of appliedRows) {
    if (!MIGRATION_FILE.test(row.name)) {
      throw new MigrationError(`${MIGRATIONS_TABLE} records ${JSON.stringify(row.name)}, which is not a NNN-name.sql migration; remove that row or fix its name`, row.name);
    }
    const n = numberOf(row.name);
    appliedNumbers.add(n);
    const file = byNumber.get(n);
    if (file) {
      if (file.checksum !== row.checksum) throw conflictError(row, file);
      alreadyApplied.push(file.name);
    } else if (n > newestInDirectory) {
      newerThanDirectory.push(row.name);
    } else {
      throw new MigrationError(
        `${row.name} was applied to this database but is missing from the migrations directory, whose newest file is ${files[files.length - 1].name}; ` +
          'restore it (migrations are never removed, and a rollback only lacks migrations newer than its own)',
        row.name,
      );
    }
  }
  const pending = files.filter((f) => !appliedNumbers.has(numberOf(f.name)));
  const newestApplied = appliedRows.reduce<string | undefined>((newest, r) => (newest === undefined || numberOf(r.name) > numberOf(newest) ? r.name : newest), undefined);
  if (pending.length && newestApplied !== undefined && numberOf(pending[0].name) < numberOf(newestApplied)) {
    throw new MigrationError(
      `${pending[0].name} is not applied, but the newer ${newestApplied} is; migrations apply in number order, ` +
        `so renumber ${pending[0].name} (and any later unapplied file) after ${newestApplied.slice(0, 3)}`,
      pending[0].name,
    );
  }
  return { pending, alreadyApplied, newerThanDirectory };
}

function conflictError(row: AppliedRow, file: MigrationFile): MigrationError {
  const checksums = `(applied checksum ${row.checksum}, file now ${file.checksum})`;
  if (row.name === file.name) {
    return new MigrationError(
      `${row.name} has changed since it was applied ${checksums}; ` + 'applied migrations must not be edited: revert the file and put the change in a new numbered migration',
      row.name,
    );
  }
  return new MigrationError(
    `migration ${row.name.slice(0, 3)} conflicts: the database applied ${row.name}, but this directory has ${file.name} under that number ${checksums}; ` +
      "two different migrations share one number: give the directory's file the next free number",
    file.name,
  );
}

/** SQLSTATEs of a migration stopped by its time budget: statement_timeout, transaction_timeout (PostgreSQL 17). */
const OUT_OF_TIME = new Set(['57014', '25P04']);

async function applyOne(client: ClientBase, file: MigrationFile, owner: string, lockTimeoutMs: number, deadline: number | undefined): Promise<void> {
  const budgetMs = deadline === undefined ? undefined : timeLeft(deadline, file.name, file.name);
  const started = Date.now();
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL lock_timeout = ${budgetMs === undefined ? lockTimeoutMs : Math.min(lockTimeoutMs, budgetMs)}`);
    if (budgetMs !== undefined) {
      // statement_timeout cancels one long statement cleanly; transaction_timeout, a second later (inside the
      // report margin), also bounds a file of many statements, at the price of ending the session.
      await client.query(`SET LOCAL statement_timeout = ${budgetMs}`);
      await client.query(`SET LOCAL transaction_timeout = ${budgetMs + 1_000}`);
    }
    // The file's objects are the owner's; the bookkeeping row is the login's.
    await client.query(`SET LOCAL ROLE ${client.escapeIdentifier(owner)}`);
    await client.query(file.sql);
    await client.query('RESET ROLE');
    await client.query(`INSERT INTO ${MIGRATIONS_TABLE} (name, checksum, duration_ms) VALUES ($1, $2, $3)`, [file.name, file.checksum, Date.now() - started]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    const outOfTime =
      budgetMs !== undefined && OUT_OF_TIME.has(String((err as Partial<DatabaseError>).code))
        ? `; it did not finish within the ${Math.round(budgetMs / 1000)} s left of this deploy step, so Postgres rolled it back (sql/README.md, "Time budget")`
        : '';
    throw new MigrationError(`migration ${file.name} failed: ${describePostgresError(file, err)}${outOfTime}`, file.name, err);
  }
}
