import { readdirSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { main } from '../../scripts/db-migrate';
import { MIGRATIONS_TABLE } from '../../lambda/migrations/runner';
import { captureConsole } from '../support/console-capture';
import { createTestDatabase, TestDatabase } from '../support/postgres';

/** The repository's migrations, counted rather than hard-coded, so a new sql/ file does not break these tests. */
const SQL_FILES = readdirSync(join(__dirname, '../../sql')).filter((f) => /^\d{3}-.+\.sql$/.test(f));

const REPO = join(__dirname, '../..');
let db: TestDatabase;
const { out, err } = captureConsole();

beforeAll(async () => {
  db = await createTestDatabase('cli');
});
afterAll(() => db.drop());

describe('npm run db:migrate', () => {
  it('runs as the npm script and applies every migration, then finds nothing to do', async () => {
    const { stdout } = await promisify(execFile)('npx', ['tsx', 'scripts/db-migrate.ts', '--url', db.url], { cwd: REPO });
    expect(stdout).toContain('applied  001-chat-schema.sql');
    expect(stdout).toMatch(new RegExp(`: ${SQL_FILES.length} applied, 0 already applied`));
    expect(stdout).not.toContain('test-only-loopback'); // the password is redacted
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM ${MIGRATIONS_TABLE}`)).rows[0].n).toBe(SQL_FILES.length);

    expect(await main(['--url', db.url])).toBe(0);
    expect(out.at(-1)).toMatch(new RegExp(`: 0 applied, ${SQL_FILES.length} already applied$`));
  });

  it('takes DATABASE_URL when --url is absent', async () => {
    expect(await main([], { DATABASE_URL: db.url })).toBe(0);
    expect(out.at(-1)).toMatch(new RegExp(`^postgres://postgres:\\*\\*\\*@127\\.0\\.0\\.1:\\d+/cli_[0-9a-f]+: 0 applied, ${SQL_FILES.length} already applied$`));
  });

  it('says which migrations it kept when the database is newer than the sql/ directory', async () => {
    await db.pool.query(`INSERT INTO ${MIGRATIONS_TABLE} (name, checksum, duration_ms) VALUES ('900-from-a-newer-branch.sql', 'x', 0)`);
    try {
      expect(await main(['--url', db.url])).toBe(0);
      expect(out).toContain('kept     900-from-a-newer-branch.sql (the database has it; this sql/ directory is older)');
      expect(out.at(-1)).toMatch(new RegExp(`: 0 applied, ${SQL_FILES.length} already applied$`));
    } finally {
      await db.pool.query(`DELETE FROM ${MIGRATIONS_TABLE} WHERE name = '900-from-a-newer-branch.sql'`);
    }
  });

  it('exits 2 with the usage when no database is given or the URL is not postgres://', async () => {
    expect(await main([], {})).toBe(2);
    expect(err.join('\n')).toContain('no database given.\nusage: npm run db:migrate -- --url postgres://');
    expect(await main(['--url', 'mysql://u:secret@h/db'], {})).toBe(2);
    expect(err.join('\n')).toContain('--url must be a postgres:// URL, got mysql://u:***@h/db');
    expect(await main(['--bogus'], {})).toBe(2);
    expect(err.at(-1)).toMatch(/Unknown option '--bogus'[\s\S]*usage: npm run db:migrate/);
  });

  it('prints the usage and exits 0 for --help, touching no database', async () => {
    expect(await main(['--help'], {})).toBe(0);
    expect(out.at(-1)).toMatch(/^usage: npm run db:migrate/);
  });

  it('exits 1 naming the failing file when a migration fails', async () => {
    const target = await createTestDatabase('cli_bad');
    try {
      await target.pool.query('CREATE TABLE chat_rooms (id int)'); // in the way of 001
      expect(await main(['--url', target.url])).toBe(1);
      expect(err.join('\n')).toMatch(
        /^db:migrate failed on postgres:\/\/postgres:\*\*\*@.*: migration 001-chat-schema\.sql failed: there is no unique constraint matching given keys for referenced table "chat_rooms" \(SQLSTATE 42830\)$/,
      );
    } finally {
      await target.drop();
    }
  });
});
