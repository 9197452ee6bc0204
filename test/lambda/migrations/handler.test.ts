import { readdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { Client } from 'pg';
import { handleMigrationsEvent, MIGRATIONS_PHYSICAL_ID } from '../../../lambda/migrations/custom-resource';
import { MIGRATIONS_TABLE } from '../../../lambda/migrations/runner';
import { sqlContentHash } from '../../../lib/chat-hasura-lite';
import { createTestDatabase, TestDatabase } from '../../support/postgres';
import { capturePowertoolsOutput } from '../../support/powertools-output';

/** The repository's migrations, counted rather than hard-coded, so a new sql/ file does not break these tests. */
const SQL_FILES = readdirSync(join(__dirname, '../../../sql'))
  .filter((f) => /^\d{3}-.+\.sql$/.test(f))
  .sort();
const LATEST_SQL = SQL_FILES[SQL_FILES.length - 1];

/**
 * The Custom::ChatMigrations onEvent handler, fed events shaped as the CDK provider
 * framework forwards CloudFormation's requests (RequestType, ResourceProperties with
 * the ServiceToken, PhysicalResourceId on Update/Delete, OldResourceProperties on Update),
 * against a real database reached through DATABASE_URL.
 */
const STACK_ID = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/PhenomChat-development/4f1c2a30-8a3b-11f0-9d8e-0a1b2c3d4e5f';
const SERVICE_TOKEN = 'arn:aws:lambda:eu-west-1:123456789012:function:PhenomChat-development-ChatHasuraLiteMigrationsCust-AbCdEf';

function event(requestType: 'Create' | 'Update' | 'Delete', sqlHash: string, extra: Record<string, unknown> = {}): CloudFormationCustomResourceEvent {
  return {
    RequestType: requestType,
    ServiceToken: SERVICE_TOKEN,
    ResponseURL: 'https://cloudformation-custom-resource-response-euwest1.s3-eu-west-1.amazonaws.com/arn%3Aaws%3Acloudformation?X-Amz-Signature=x',
    StackId: STACK_ID,
    RequestId: randomUUID(),
    LogicalResourceId: 'ChatHasuraLiteMigrationsCustomResource4B5DBC3D',
    ResourceType: 'Custom::ChatMigrations',
    ResourceProperties: { ServiceToken: SERVICE_TOKEN, SqlHash: sqlHash },
    ...extra,
  } as CloudFormationCustomResourceEvent;
}

let db: TestDatabase;
type Entry = (e: CloudFormationCustomResourceEvent, context: { getRemainingTimeInMillis(): number }) => Promise<unknown>;
/** A fresh invocation of the 9-minute migrations Lambda. */
const lambdaContext = { getRemainingTimeInMillis: () => 540_000 };
let entryHandler: Entry;
const handler = (e: CloudFormationCustomResourceEvent) => entryHandler(e, lambdaContext);
const hash = sqlContentHash();

beforeAll(async () => {
  db = await createTestDatabase('cr');
  process.env.DATABASE_URL = db.url;
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  // Imported after DATABASE_URL is set, the way the Lambda runtime loads it with its environment.
  ({ handler: entryHandler } = await import('../../../lambda/migrations'));
});
afterAll(async () => {
  delete process.env.DATABASE_URL;
  await db.drop();
});

async function messageCount(): Promise<number> {
  return (await db.pool.query('SELECT count(*)::int AS n FROM chat_messages')).rows[0].n;
}

describe('the migrations handler (lambda/migrations/index.ts)', () => {
  it('Create applies every migration and returns the stable physical id', async () => {
    const response = await handler(event('Create', hash));
    expect(response).toEqual({
      PhysicalResourceId: MIGRATIONS_PHYSICAL_ID,
      Data: { Applied: expect.stringMatching(/^001-chat-schema\.sql,002-/), AppliedCount: SQL_FILES.length, LatestMigration: LATEST_SQL, NewerThanBundle: '' },
    });
    expect((await db.pool.query('SELECT count(*)::int AS n FROM chat_rooms')).rows[0].n).toBe(3);
  });

  it('Update (a deploy with a new sql hash) keeps the physical id and applies nothing already applied', async () => {
    const response = await handler(event('Update', 'new-hash', { PhysicalResourceId: MIGRATIONS_PHYSICAL_ID, OldResourceProperties: { ServiceToken: SERVICE_TOKEN, SqlHash: hash } }));
    expect(response).toEqual({ PhysicalResourceId: MIGRATIONS_PHYSICAL_ID, Data: { Applied: '', AppliedCount: 0, LatestMigration: LATEST_SQL, NewerThanBundle: '' } });
  });

  it('rollback: an Update from code older than the database succeeds, changes nothing and logs the newer migrations', async () => {
    // What a newer release's migration left behind: its column, and its record.
    await db.pool.query('ALTER TABLE chat_rooms ADD COLUMN topic TEXT');
    await db.pool.query(`INSERT INTO ${MIGRATIONS_TABLE} (name, checksum, duration_ms) VALUES ('900-room-topic.sql', $1, 3)`, ['a'.repeat(64)]);
    const output = capturePowertoolsOutput();
    try {
      let entry: Entry | undefined;
      process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
      await jest.isolateModulesAsync(async () => {
        ({ handler: entry } = await import('../../../lambda/migrations'));
      });
      const rollback = event('Update', hash, { PhysicalResourceId: MIGRATIONS_PHYSICAL_ID, OldResourceProperties: { ServiceToken: SERVICE_TOKEN, SqlHash: 'newer-release-hash' } });
      expect(await entry!(rollback, lambdaContext)).toEqual({
        PhysicalResourceId: MIGRATIONS_PHYSICAL_ID,
        Data: { Applied: '', AppliedCount: 0, LatestMigration: '900-room-topic.sql', NewerThanBundle: '900-room-topic.sql' },
      });
      expect(output.logs('database is ahead of this code')).toEqual([
        expect.objectContaining({ level: 'WARN', requestType: 'Update', newerThanBundle: ['900-room-topic.sql'], bundleLatest: LATEST_SQL }),
      ]);
      const topic = await db.pool.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'chat_rooms' AND column_name = 'topic'`);
      expect(topic.rowCount).toBe(1);
    } finally {
      output.restore();
      process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
      await db.pool.query(`DELETE FROM ${MIGRATIONS_TABLE} WHERE name = '900-room-topic.sql'`);
      await db.pool.query('ALTER TABLE chat_rooms DROP COLUMN topic');
    }
  });

  it('Delete keeps the schema and every row', async () => {
    await db.pool.query(`INSERT INTO users (id) VALUES ('u1')`);
    await db.pool.query(`INSERT INTO chat_members (room_id, user_id) SELECT id, 'u1' FROM chat_rooms WHERE name = 'Phenom Community'`);
    await db.pool.query(`INSERT INTO chat_messages (room_id, user_id, content) SELECT id, 'u1', 'keep me' FROM chat_rooms WHERE name = 'Phenom Community'`);
    const response = await handler(event('Delete', hash, { PhysicalResourceId: MIGRATIONS_PHYSICAL_ID }));
    expect(response).toEqual({ PhysicalResourceId: MIGRATIONS_PHYSICAL_ID });
    expect(await messageCount()).toBe(1);
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM ${MIGRATIONS_TABLE}`)).rows[0].n).toBe(SQL_FILES.length);
  });

  it('fails the deploy with the file name when an applied migration was edited', async () => {
    await db.pool.query(`UPDATE ${MIGRATIONS_TABLE} SET checksum = 'tampered' WHERE name = '001-chat-schema.sql'`);
    try {
      await expect(handler(event('Update', 'h2', { PhysicalResourceId: MIGRATIONS_PHYSICAL_ID, OldResourceProperties: {} }))).rejects.toThrow(/^001-chat-schema\.sql has changed since it was applied/);
    } finally {
      await db.pool.query(`DELETE FROM ${MIGRATIONS_TABLE} WHERE name = '001-chat-schema.sql'`);
    }
  });

  it('rejects an unknown RequestType', async () => {
    await expect(handler({ ...event('Create', hash), RequestType: 'Replace' } as unknown as CloudFormationCustomResourceEvent)).rejects.toThrow(
      'unsupported RequestType "Replace"; expected Create, Update or Delete',
    );
  });
});

describe('handleMigrationsEvent with a growing sql/ directory', () => {
  let scratch: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    scratch = await createTestDatabase('cr_scratch');
    dir = mkdtempSync(join(tmpdir(), 'phenom-sql-'));
  });
  afterAll(async () => {
    await scratch.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const deps = () => ({
    sqlDir: dir,
    async withClient<T>(work: (c: Client) => Promise<T>): Promise<T> {
      const client = new Client({ connectionString: scratch.url });
      await client.connect();
      try {
        return await work(client);
      } finally {
        await client.end();
      }
    },
  });

  it('applies only the new file on the Update that ships it, and reports a failing one with its Postgres error', async () => {
    writeFileSync(join(dir, '001-a.sql'), 'CREATE TABLE a (x int);');
    expect(await handleMigrationsEvent(event('Create', 'h1'), deps())).toMatchObject({ Data: { Applied: '001-a.sql', AppliedCount: 1 } });

    writeFileSync(join(dir, '002-b.sql'), 'CREATE TABLE b (x int);');
    const update = event('Update', 'h2', { PhysicalResourceId: 'custom-id', OldResourceProperties: { SqlHash: 'h1' } });
    expect(await handleMigrationsEvent(update, deps())).toEqual({
      PhysicalResourceId: 'custom-id',
      Data: { Applied: '002-b.sql', AppliedCount: 1, LatestMigration: '002-b.sql', NewerThanBundle: '' },
    });

    writeFileSync(join(dir, '003-c.sql'), 'ALTER TABLE a ADD COLUMN x int;');
    await expect(handleMigrationsEvent(event('Update', 'h3', { PhysicalResourceId: 'custom-id', OldResourceProperties: {} }), deps())).rejects.toThrow(
      'migration 003-c.sql failed: column "x" of relation "a" already exists (SQLSTATE 42701)',
    );
  });
});
