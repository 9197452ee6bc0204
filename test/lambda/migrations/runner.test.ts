import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { checksumOf, MigrationError, MigrationResult, MIGRATIONS_LOCK_KEY, MIGRATIONS_TABLE, readMigrations, runMigrations, RunMigrationsOptions } from '../../../lambda/migrations/runner';
import { createTestDatabase, TestDatabase } from '../../support/postgres';
import { schemaFingerprint } from '../../support/postgres/catalog';

const REPO_SQL = join(__dirname, '../../../sql');
const REPO_FILES = readdirSync(REPO_SQL)
  .filter((f) => f.endsWith('.sql'))
  .sort();

const databases: TestDatabase[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(databases.map((d) => d.drop()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function freshDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase('runner');
  databases.push(db);
  return db;
}

/** A scratch migrations directory holding `files`. */
function sqlDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'phenom-sql-'));
  dirs.push(dir);
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
  return dir;
}

/** Runs the migrations on a connection of its own, as a deploy or `db:migrate` would. */
async function migrate(db: TestDatabase, options: RunMigrationsOptions = {}): Promise<MigrationResult> {
  const client = new Client({ connectionString: db.url });
  await client.connect();
  try {
    return await runMigrations(client, options);
  } finally {
    await client.end();
  }
}

async function recorded(db: TestDatabase): Promise<{ name: string; checksum: string }[]> {
  return (await db.pool.query(`SELECT name, checksum FROM ${MIGRATIONS_TABLE} ORDER BY name`)).rows;
}

describe('runMigrations on the repository sql/', () => {
  it('applies every file once, in order, recording its checksum; a second run is a no-op', async () => {
    const db = await freshDatabase();
    const first = await migrate(db);
    expect(first).toEqual({ applied: REPO_FILES, alreadyApplied: [], newerThanDirectory: [] });
    expect(await recorded(db)).toEqual(REPO_FILES.map((name) => ({ name, checksum: checksumOf(readFileSync(join(REPO_SQL, name), 'utf8')) })));

    const schema = await schemaFingerprint(db.pool);
    const rooms = (await db.pool.query('SELECT id, name FROM chat_rooms ORDER BY name')).rows;
    const second = await migrate(db);
    expect(second).toEqual({ applied: [], alreadyApplied: REPO_FILES, newerThanDirectory: [] });
    expect(await schemaFingerprint(db.pool)).toBe(schema);
    expect((await db.pool.query('SELECT id, name FROM chat_rooms ORDER BY name')).rows).toEqual(rooms);
  });

  it('applies each file exactly once when two runs start together', async () => {
    const db = await freshDatabase();
    const [a, b] = await Promise.all([migrate(db), migrate(db)]);
    expect([...a.applied, ...b.applied].sort()).toEqual(REPO_FILES);
    // The lock serialises whole runs: one did all the work, the other found it done.
    expect([a.applied.length, b.applied.length].sort()).toEqual([0, REPO_FILES.length]);
    expect((await recorded(db)).map((r) => r.name)).toEqual(REPO_FILES);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM chat_rooms')).rows[0].n).toBe(3);
  });
});

describe('runMigrations safety', () => {
  it('makes a second run wait on the advisory lock while the first is applying', async () => {
    const db = await freshDatabase();
    const dir = sqlDir({
      '001-log.sql': 'CREATE TABLE run_log (file text, at timestamptz DEFAULT clock_timestamp());',
      '002-slow.sql': "SELECT pg_sleep(0.6); INSERT INTO run_log (file) VALUES ('002');",
    });
    const first = migrate(db, { sqlDir: dir });
    // Wait until the first run is inside its slow migration, then start the second.
    for (let i = 0; i < 100; i++) {
      const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep(0.6)%'`);
      if (rows[0].n > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const second = migrate(db, { sqlDir: dir });
    let sawWaiter = false;
    for (let i = 0; i < 50 && !sawWaiter; i++) {
      const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`);
      sawWaiter = rows[0].n > 0;
      if (!sawWaiter) await new Promise((r) => setTimeout(r, 20));
    }
    const results = await Promise.all([first, second]);
    expect(sawWaiter).toBe(true);
    expect(results).toEqual([
      { applied: ['001-log.sql', '002-slow.sql'], alreadyApplied: [], newerThanDirectory: [] },
      { applied: [], alreadyApplied: ['001-log.sql', '002-slow.sql'], newerThanDirectory: [] },
    ]);
    expect((await db.pool.query('SELECT file FROM run_log')).rows).toEqual([{ file: '002' }]);
  });

  it('refuses to run when an applied file has changed, and applies nothing', async () => {
    const db = await freshDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'phenom-sql-'));
    dirs.push(dir);
    cpSync(REPO_SQL, dir, { recursive: true });
    await migrate(db, { sqlDir: dir });

    writeFileSync(join(dir, '001-chat-schema.sql'), readFileSync(join(dir, '001-chat-schema.sql'), 'utf8') + '\nALTER TABLE chat_rooms ADD COLUMN topic TEXT;\n');
    writeFileSync(join(dir, '999-later.sql'), 'CREATE TABLE later (x int);');
    const err = await migrate(db, { sqlDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationError);
    expect((err as MigrationError).file).toBe('001-chat-schema.sql');
    expect((err as Error).message).toMatch(/^001-chat-schema\.sql has changed since it was applied \(applied checksum [0-9a-f]{64}, file now [0-9a-f]{64}\)/);
    const later = await db.pool.query(`SELECT to_regclass('later') AS t`);
    expect(later.rows[0].t).toBeNull();
    expect((await recorded(db)).map((r) => r.name)).toEqual(REPO_FILES);
  });

  it('treats a CRLF checkout of an applied file as unchanged', async () => {
    const db = await freshDatabase();
    const sql = 'CREATE TABLE a (x int);\nCREATE TABLE b (y int);\n';
    await migrate(db, { sqlDir: sqlDir({ '001-a.sql': sql }) });
    expect(await migrate(db, { sqlDir: sqlDir({ '001-a.sql': sql.replace(/\n/g, '\r\n') }) })).toEqual({ applied: [], alreadyApplied: ['001-a.sql'], newerThanDirectory: [] });
  });

  it('names the failing file and the Postgres error, rolls that file back, and keeps the earlier ones', async () => {
    const db = await freshDatabase();
    const dir = sqlDir({
      '001-ok.sql': 'CREATE TABLE ok (x int);',
      '002-broken.sql': 'CREATE TABLE half (x int);\nINSERT INTO half VALUES (1);\nSELECT * FROM no_such_table;',
      '003-after.sql': 'CREATE TABLE after_broken (x int);',
    });
    const err = await migrate(db, { sqlDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationError);
    expect((err as MigrationError).file).toBe('002-broken.sql');
    expect((err as Error).message).toBe('migration 002-broken.sql failed: relation "no_such_table" does not exist (SQLSTATE 42P01) at line 3');
    expect((await recorded(db)).map((r) => r.name)).toEqual(['001-ok.sql']);
    const tables = await db.pool.query(`SELECT to_regclass('ok') AS ok, to_regclass('half') AS half, to_regclass('after_broken') AS after`);
    expect(tables.rows[0]).toEqual({ ok: 'ok', half: null, after: null });

    // The lock was released and the unrecorded file may still be fixed: the next run goes on from there.
    writeFileSync(join(dir, '002-broken.sql'), 'CREATE TABLE half (x int);');
    expect(await migrate(db, { sqlDir: dir })).toEqual({ applied: ['002-broken.sql', '003-after.sql'], alreadyApplied: ['001-ok.sql'], newerThanDirectory: [] });
  });

  it('gives up on a table lock after lockTimeoutMs instead of stalling every query behind it', async () => {
    const db = await freshDatabase();
    const dir = sqlDir({ '001-table.sql': 'CREATE TABLE busy (x int);', '002-alter.sql': 'ALTER TABLE busy ADD COLUMN y int;' });
    await migrate(db, { sqlDir: dir, lockTimeoutMs: 0 });
    // A second file arrives while a long transaction reads the table.
    const holder = new Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT * FROM busy');
      writeFileSync(join(dir, '003-more.sql'), 'ALTER TABLE busy ADD COLUMN z int;');
      const started = Date.now();
      await expect(migrate(db, { sqlDir: dir, lockTimeoutMs: 200 })).rejects.toThrow('migration 003-more.sql failed: canceling statement due to lock timeout (SQLSTATE 55P03)');
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await holder.end();
    }
    expect(await migrate(db, { sqlDir: dir })).toEqual({ applied: ['003-more.sql'], alreadyApplied: ['001-table.sql', '002-alter.sql'], newerThanDirectory: [] });
  });

  it('reports errors raised inside a migration with their detail and hint', async () => {
    const db = await freshDatabase();
    const dir = sqlDir({ '001-raise.sql': "DO $$ BEGIN RAISE EXCEPTION 'no way' USING DETAIL = 'because', HINT = 'try again'; END $$;" });
    await expect(migrate(db, { sqlDir: dir })).rejects.toThrow(/^migration 001-raise\.sql failed: no way \(SQLSTATE P0001\); detail: because; hint: try again/);
  });
});

describe("runMigrations within a deadline (the deploy step's time budget)", () => {
  it('stops a file of many statements that would overrun, rolls it back, and says why', async () => {
    const db = await freshDatabase();
    const dir = sqlDir({
      '001-a.sql': 'CREATE TABLE a (x int);',
      // Each statement alone is shorter than the budget; together they are not.
      '002-slow.sql': `CREATE TABLE half (x int);\n${'SELECT pg_sleep(0.5);\n'.repeat(6)}`,
    });
    const started = Date.now();
    const err = await migrate(db, { sqlDir: dir, deadline: Date.now() + 1_500 }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(3_500);
    expect(err).toBeInstanceOf(MigrationError);
    expect((err as MigrationError).file).toBe('002-slow.sql');
    expect((err as Error).message).toMatch(
      /^migration 002-slow\.sql failed: terminating connection due to transaction timeout \(SQLSTATE 25P04\); it did not finish within the 1 s left of this deploy step, so Postgres rolled it back/,
    );
    expect((await recorded(db)).map((r) => r.name)).toEqual(['001-a.sql']);
    expect((await db.pool.query(`SELECT to_regclass('half') AS t`)).rows[0].t).toBeNull();
    // The session ended, and with it the advisory lock: the next run (time enough) goes on.
    expect(await migrate(db, { sqlDir: dir, deadline: Date.now() + 60_000 })).toEqual({ applied: ['002-slow.sql'], alreadyApplied: ['001-a.sql'], newerThanDirectory: [] });
  });

  it('cancels one long statement at the deadline with statement_timeout', async () => {
    const db = await freshDatabase();
    const err = await migrate(db, { sqlDir: sqlDir({ '001-sleep.sql': 'SELECT pg_sleep(5);' }), deadline: Date.now() + 1_300 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(
      /^migration 001-sleep\.sql failed: canceling statement due to statement timeout \(SQLSTATE 57014\); it did not finish within the 1 s left of this deploy step/,
    );
    expect(await recorded(db)).toEqual([]);
  });

  it("gives up waiting for another run's lock at the deadline, naming the cause", async () => {
    const db = await freshDatabase();
    const holder = new Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATIONS_LOCK_KEY]);
      const started = Date.now();
      await expect(migrate(db, { sqlDir: sqlDir({ '001-a.sql': 'CREATE TABLE a (x int);' }), deadline: Date.now() + 1_200 })).rejects.toThrow(
        /^another migration run held the migrations lock for the whole time budget of this step \(1 s\)/,
      );
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      await holder.end();
    }
    expect(await recorded(db).catch(() => 'no table')).toBe('no table');
  });

  it('starts no file once the deadline has passed', async () => {
    const db = await freshDatabase();
    await expect(migrate(db, { sqlDir: sqlDir({ '001-a.sql': 'CREATE TABLE a (x int);' }), deadline: Date.now() + 200 })).rejects.toThrow(
      "no time left for taking the migrations lock within this deploy step's time budget",
    );
  });
});

describe('runMigrations with a directory older than the database (a rollback)', () => {
  const A = 'CREATE TABLE a (x int);';
  const B = 'ALTER TABLE a ADD COLUMN y int;';
  const C = 'CREATE TABLE c (x int);';

  it('succeeds, leaves the schema and the records alone, and names the newer migrations', async () => {
    const db = await freshDatabase();
    await migrate(db, { sqlDir: sqlDir({ '001-a.sql': A, '002-b.sql': B, '003-c.sql': C }) });
    const schema = await schemaFingerprint(db.pool);
    const records = await recorded(db);

    expect(await migrate(db, { sqlDir: sqlDir({ '001-a.sql': A }) })).toEqual({ applied: [], alreadyApplied: ['001-a.sql'], newerThanDirectory: ['002-b.sql', '003-c.sql'] });
    expect(await schemaFingerprint(db.pool)).toBe(schema);
    expect(await recorded(db)).toEqual(records);

    // Rolling forward again: the newer release's directory finds its migrations applied.
    expect(await migrate(db, { sqlDir: sqlDir({ '001-a.sql': A, '002-b.sql': B, '003-c.sql': C }) })).toEqual({
      applied: [],
      alreadyApplied: ['001-a.sql', '002-b.sql', '003-c.sql'],
      newerThanDirectory: [],
    });
  });

  it('refuses a migration of the same number with another checksum, applying nothing', async () => {
    const db = await freshDatabase();
    await migrate(db, { sqlDir: sqlDir({ '001-a.sql': A, '002-b.sql': B }) });
    const err = await migrate(db, { sqlDir: sqlDir({ '001-a.sql': A, '002-other.sql': 'CREATE TABLE other (x int);', '003-c.sql': C }) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationError);
    expect((err as MigrationError).file).toBe('002-other.sql');
    expect((err as Error).message).toMatch(
      /^migration 002 conflicts: the database applied 002-b\.sql, but this directory has 002-other\.sql under that number \(applied checksum [0-9a-f]{64}, file now [0-9a-f]{64}\); two different migrations share one number/,
    );
    const tables = await db.pool.query(`SELECT to_regclass('other') AS other, to_regclass('c') AS c`);
    expect(tables.rows[0]).toEqual({ other: null, c: null });
    expect((await recorded(db)).map((r) => r.name)).toEqual(['001-a.sql', '002-b.sql']);
  });

  it('takes a renamed file with unchanged content as the migration of its number', async () => {
    const db = await freshDatabase();
    await migrate(db, { sqlDir: sqlDir({ '001-a.sql': A, '002-b.sql': B }) });
    expect(await migrate(db, { sqlDir: sqlDir({ '001-a.sql': A, '002-add-y.sql': B }) })).toEqual({ applied: [], alreadyApplied: ['001-a.sql', '002-add-y.sql'], newerThanDirectory: [] });
    expect((await recorded(db)).map((r) => r.name)).toEqual(['001-a.sql', '002-b.sql']);
  });

  it("refuses a gap: an applied migration missing below the directory's newest file", async () => {
    const db = await freshDatabase();
    await migrate(db, { sqlDir: sqlDir({ '001-a.sql': A, '002-b.sql': B, '003-c.sql': C }) });
    await expect(migrate(db, { sqlDir: sqlDir({ '001-a.sql': A, '003-c.sql': C }) })).rejects.toThrow(
      '002-b.sql was applied to this database but is missing from the migrations directory, whose newest file is 003-c.sql; restore it',
    );
  });

  it('refuses to apply a file numbered below an applied one, and applies nothing', async () => {
    const db = await freshDatabase();
    await migrate(db, { sqlDir: sqlDir({ '001-a.sql': A, '003-c.sql': C }) });
    const err = await migrate(db, { sqlDir: sqlDir({ '001-a.sql': A, '002-b.sql': B, '003-c.sql': C, '004-d.sql': 'CREATE TABLE d (x int);' }) }).catch((e: unknown) => e);
    expect((err as MigrationError).file).toBe('002-b.sql');
    expect((err as Error).message).toBe('002-b.sql is not applied, but the newer 003-c.sql is; migrations apply in number order, so renumber 002-b.sql (and any later unapplied file) after 003');
    expect((await db.pool.query(`SELECT to_regclass('d') AS d`)).rows[0].d).toBeNull();
    expect((await recorded(db)).map((r) => r.name)).toEqual(['001-a.sql', '003-c.sql']);
  });

  it('refuses a record that is not a migration file name', async () => {
    const db = await freshDatabase();
    await migrate(db, { sqlDir: sqlDir({ '001-a.sql': A }) });
    await db.pool.query(`INSERT INTO ${MIGRATIONS_TABLE} (name, checksum, duration_ms) VALUES ('hotfix.sql', 'x', 0)`);
    await expect(migrate(db, { sqlDir: sqlDir({ '001-a.sql': A }) })).rejects.toThrow(`${MIGRATIONS_TABLE} records "hotfix.sql", which is not a NNN-name.sql migration`);
  });
});

describe('readMigrations', () => {
  it('orders files by number and rejects names that are not NNN-name.sql', () => {
    expect(readMigrations(sqlDir({ '010-c.sql': '', '002-b.sql': '', '001-a.sql': '' })).map((f) => f.name)).toEqual(['001-a.sql', '002-b.sql', '010-c.sql']);
    expect(() => readMigrations(sqlDir({ '001-a.sql': '', 'V2__b.sql': '' }))).toThrow('migration file names must look like NNN-name.sql (lower case): V2__b.sql');
  });

  it('rejects two files with one number', () => {
    expect(() => readMigrations(sqlDir({ '001-a.sql': '', '001-b.sql': '' }))).toThrow('two migrations share the number 001: 001-a.sql and 001-b.sql');
  });

  it('rejects a missing directory', () => {
    expect(() => readMigrations('/nonexistent/sql')).toThrow('migrations directory /nonexistent/sql does not exist');
  });
});
