import { readdirSync } from 'node:fs';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { parse, stringify } from 'yaml';
import { createHandler } from '../../../lambda/hasura-metadata-apply/handler';
import { loadMetadataDirectory } from '../../../chat-domain/hasura-metadata-directory';
import { handleMigrationsEvent, MIGRATIONS_PHYSICAL_ID, MigrationsEventDeps } from '../../../lambda/migrations/custom-resource';
import { MIGRATIONS_TABLE } from '../../../lambda/migrations/runner';
import { SQL_DIR, sqlContentHash } from '../../../lib/chat-hasura-lite';
import { HASURA_METADATA_DIR, metadataContentHash } from '../../../lib/chat-hasura-lite/metadata';
import { customResourceEvent } from '../../support/cloudformation-event';
import { createTestDatabase, TestDatabase } from '../../support/postgres';
import { readPublicSchemaCatalog, schemaFingerprint } from '../../support/postgres/catalog';
import { HasuraStandIn } from '../../lambda/hasura-metadata-apply/hasura-stand-in';

/** The repository's migrations, counted rather than hard-coded, so a new sql/ file does not break these tests. */
const SQL_FILES = readdirSync(join(__dirname, '../../../sql'))
  .filter((f) => /^\d{3}-.+\.sql$/.test(f))
  .sort();
const LATEST_SQL = SQL_FILES[SQL_FILES.length - 1];

/**
 * The two ChatHasuraLite deploy steps (Custom::ChatMigrations, then Custom::HasuraMetadata)
 * across a release and its rollback, against real PostgreSQL 17 and the stand-in metadata
 * API, which checks the metadata against that database's schema as graphql-engine does.
 *
 * Release N is the repository (sql/ and hasura-metadata/). Release N+1 expands the schema
 * (900: chat_rooms.topic and a chat_room_pins table) and its metadata exposes both. When a
 * later resource of N+1 fails, CloudFormation rolls back by sending each custom resource an
 * Update whose ResourceProperties are N's and OldResourceProperties N+1's, and N's code runs.
 */
const SERVICE_TOKEN = 'arn:aws:lambda:us-east-1:123456789012:function:PhenomChat-development-ProviderframeworkonEvent';
const ADMIN_SECRET = 'stand-in-admin-secret';

interface Release {
  readonly sqlDir: string;
  readonly metadataDir: string;
}

const scratch: string[] = [];
function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

/** A release built from the repository's directories, with `edit` applied to copies of them. */
function release(edit?: (sqlDir: string, metadataDir: string) => void): Release {
  if (!edit) return { sqlDir: SQL_DIR, metadataDir: HASURA_METADATA_DIR };
  const sqlDir = scratchDir('phenom-sql-');
  const metadataDir = scratchDir('phenom-metadata-');
  cpSync(SQL_DIR, sqlDir, { recursive: true });
  cpSync(HASURA_METADATA_DIR, metadataDir, { recursive: true });
  edit(sqlDir, metadataDir);
  return { sqlDir, metadataDir };
}

const TABLES = ['databases', 'default', 'tables'];

/** Rewrites one table file of a metadata directory. */
function editTable(metadataDir: string, file: string, change: (table: Record<string, unknown>) => void): void {
  const path = join(metadataDir, ...TABLES, file);
  const table = parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  change(table);
  writeFileSync(path, stringify(table));
}

type Rules = { role: string; permission: { columns: string[] } }[];

/** N+1: a migration that only adds (expand), and metadata that uses what it adds. */
const expandRelease = () =>
  release((sqlDir, metadataDir) => {
    writeFileSync(
      join(sqlDir, '900-room-topic-and-pins.sql'),
      [
        'ALTER TABLE chat_rooms ADD COLUMN topic TEXT;',
        'CREATE TABLE chat_room_pins (',
        '  room_id    UUID NOT NULL REFERENCES chat_rooms (id),',
        '  message_id UUID NOT NULL REFERENCES chat_messages (id),',
        '  pinned_at  TIMESTAMPTZ NOT NULL DEFAULT now(),',
        '  PRIMARY KEY (room_id, message_id)',
        ');',
        '',
      ].join('\n'),
    );
    editTable(metadataDir, 'public_chat_rooms.yaml', (t) => {
      for (const rule of t.select_permissions as Rules) rule.permission.columns.push('topic');
      (t.update_permissions as Rules)[0].permission.columns.push('topic');
    });
    writeFileSync(
      join(metadataDir, ...TABLES, 'public_chat_room_pins.yaml'),
      stringify({
        table: { name: 'chat_room_pins', schema: 'public' },
        object_relationships: [{ name: 'room', using: { foreign_key_constraint_on: 'room_id' } }],
        select_permissions: [{ role: 'user', permission: { columns: ['message_id', 'pinned_at', 'room_id'], filter: { room: { members: { user_id: { _eq: 'X-Hasura-User-Id' } } } } } }],
      }),
    );
    const list = join(metadataDir, ...TABLES, 'tables.yaml');
    writeFileSync(list, `${readFileSync(list, 'utf8').trimEnd()}\n- "!include public_chat_room_pins.yaml"\n`);
  });

/** The same N+1 done wrongly: it drops a column that N's metadata still exposes (contract too early). */
const contractRelease = () =>
  release((sqlDir, metadataDir) => {
    writeFileSync(join(sqlDir, '900-drop-room-description.sql'), 'ALTER TABLE chat_rooms DROP COLUMN description;\n');
    editTable(metadataDir, 'public_chat_rooms.yaml', (t) => {
      for (const rule of [...(t.select_permissions as Rules), ...(t.update_permissions as Rules)]) {
        rule.permission.columns = rule.permission.columns.filter((c) => c !== 'description');
      }
    });
  });

const migrationProps = (r: Release) => ({ ServiceToken: SERVICE_TOKEN, SqlHash: sqlContentHash(r.sqlDir) });
const metadataProps = (r: Release, hasura: HasuraStandIn) => ({
  ServiceToken: SERVICE_TOKEN,
  Endpoint: hasura.url,
  Ownership: 'exclusive',
  MetadataHash: metadataContentHash(r.metadataDir),
});

/** Create, or an Update from `from` to `to` (a rollback is an Update back to the older release). */
function deployEvent(resourceType: string, props: { ServiceToken: string } & Record<string, unknown>, physicalId: string, old?: Record<string, unknown>): CloudFormationCustomResourceEvent {
  return customResourceEvent({
    requestType: old ? 'Update' : 'Create',
    resourceType,
    properties: props,
    extra: old ? { PhysicalResourceId: physicalId, OldResourceProperties: old } : undefined,
  });
}

describe('rolling back a release whose migration succeeded', () => {
  let db: TestDatabase;
  let hasura: HasuraStandIn;
  const warnings: { message: string; details: Record<string, unknown> }[] = [];

  beforeEach(async () => {
    db = await createTestDatabase('rollback');
    hasura = new HasuraStandIn(ADMIN_SECRET, { catalog: () => readPublicSchemaCatalog(db.pool) });
    await hasura.start();
    warnings.length = 0;
  });
  afterEach(async () => {
    await hasura.stop();
    await db.drop();
  });
  afterAll(() => scratch.forEach((d) => rmSync(d, { recursive: true, force: true })));

  /** The migrations step of a release's code, as its Lambda runs it. */
  const migrations = (r: Release, event: CloudFormationCustomResourceEvent) => {
    const deps: MigrationsEventDeps = {
      sqlDir: r.sqlDir,
      async withClient(work) {
        const client = await db.pool.connect();
        try {
          return await work(client);
        } finally {
          client.release();
        }
      },
      warn: (message, details) => warnings.push({ message, details }),
    };
    return handleMigrationsEvent(event, deps);
  };
  /** The metadata step of a release's code. */
  const metadata = (r: Release, event: CloudFormationCustomResourceEvent) =>
    createHandler({ metadataDir: r.metadataDir, adminSecret: async () => ADMIN_SECRET, log: () => undefined, healthPollMs: 20, safetyMarginMs: 0 })(event, {
      getRemainingTimeInMillis: () => 60_000,
    });

  /** Deploys N, then N+1 (both steps succeed); returns the two releases. */
  async function deployNThenNext(next: Release): Promise<Release> {
    const n = release();
    await migrations(n, deployEvent('Custom::ChatMigrations', migrationProps(n), MIGRATIONS_PHYSICAL_ID));
    await metadata(n, deployEvent('Custom::HasuraMetadata', metadataProps(n, hasura), 'hasura-metadata'));
    const up = await migrations(next, deployEvent('Custom::ChatMigrations', migrationProps(next), MIGRATIONS_PHYSICAL_ID, migrationProps(n)));
    expect(up.Data).toMatchObject({ AppliedCount: 1, LatestMigration: expect.stringMatching(/^900-/) });
    return n;
  }

  it('N+1 metadata is refused over N schema: the stand-in checks the metadata against the database', async () => {
    const n = release();
    const next = expandRelease();
    await migrations(n, deployEvent('Custom::ChatMigrations', migrationProps(n), MIGRATIONS_PHYSICAL_ID));
    await expect(metadata(next, deployEvent('Custom::HasuraMetadata', metadataProps(next, hasura), 'hasura-metadata'))).rejects.toThrow(
      /table chat_room_pins in source default: Inconsistent object: no such table\/view exists in source: "chat_room_pins"[\s\S]*select_permission user in table chat_rooms in source default: Inconsistent object: in table "chat_rooms": in permission for role "user": column "topic" does not exist/,
    );
  });

  it('both steps succeed on the rollback Update, and the schema stays at N+1', async () => {
    const next = expandRelease();
    const n = await deployNThenNext(next);
    await metadata(next, deployEvent('Custom::HasuraMetadata', metadataProps(next, hasura), 'hasura-metadata', metadataProps(n, hasura)));
    expect(hasura.metadata).toEqual(loadMetadataDirectory(next.metadataDir));
    const schemaAtNext = await schemaFingerprint(db.pool);
    const recordsAtNext = (await db.pool.query(`SELECT name, checksum FROM ${MIGRATIONS_TABLE} ORDER BY name`)).rows;

    // A later resource of N+1 fails. Neither rollback step changes the schema, so their order does not matter.
    const migrationsBack = await migrations(n, deployEvent('Custom::ChatMigrations', migrationProps(n), MIGRATIONS_PHYSICAL_ID, migrationProps(next)));
    expect(migrationsBack).toEqual({
      PhysicalResourceId: MIGRATIONS_PHYSICAL_ID,
      Data: { Applied: '', AppliedCount: 0, LatestMigration: '900-room-topic-and-pins.sql', NewerThanBundle: '900-room-topic-and-pins.sql' },
    });
    expect(warnings).toEqual([
      {
        message: 'database is ahead of this code: kept the newer migrations and changed nothing',
        details: { requestType: 'Update', newerThanBundle: ['900-room-topic-and-pins.sql'], bundleLatest: LATEST_SQL },
      },
    ]);

    const metadataBack = await metadata(n, deployEvent('Custom::HasuraMetadata', metadataProps(n, hasura), 'hasura-metadata', metadataProps(next, hasura)));
    expect(metadataBack).toMatchObject({ PhysicalResourceId: 'hasura-metadata', Data: { MetadataHash: metadataContentHash(HASURA_METADATA_DIR) } });
    // N's metadata is what the engine serves again: it leaves out topic and chat_room_pins, which stay in the database.
    expect(hasura.metadata).toEqual(loadMetadataDirectory(n.metadataDir));
    expect(hasura.operations.slice(-4)).toEqual(['replace_metadata', 'reload_metadata', 'get_inconsistent_metadata', 'export_metadata']);
    expect(await schemaFingerprint(db.pool)).toBe(schemaAtNext);
    expect((await db.pool.query(`SELECT name, checksum FROM ${MIGRATIONS_TABLE} ORDER BY name`)).rows).toEqual(recordsAtNext);

    // Deploying N+1 again (the fix) finds 900 applied and puts its metadata back.
    const again = await migrations(next, deployEvent('Custom::ChatMigrations', migrationProps(next), MIGRATIONS_PHYSICAL_ID, migrationProps(n)));
    expect(again.Data).toMatchObject({ Applied: '', AppliedCount: 0, NewerThanBundle: '' });
    await metadata(next, deployEvent('Custom::HasuraMetadata', metadataProps(next, hasura), 'hasura-metadata', metadataProps(n, hasura)));
    expect(hasura.metadata).toEqual(loadMetadataDirectory(next.metadataDir));
  });

  it('a release that drops a column the previous metadata uses cannot be rolled back (why sql/README.md forbids it)', async () => {
    const next = contractRelease();
    const n = await deployNThenNext(next);
    await metadata(next, deployEvent('Custom::HasuraMetadata', metadataProps(next, hasura), 'hasura-metadata', metadataProps(n, hasura)));

    await migrations(n, deployEvent('Custom::ChatMigrations', migrationProps(n), MIGRATIONS_PHYSICAL_ID, migrationProps(next)));
    await expect(metadata(n, deployEvent('Custom::HasuraMetadata', metadataProps(n, hasura), 'hasura-metadata', metadataProps(next, hasura)))).rejects.toThrow(
      /in table "chat_rooms": in permission for role "chat_admin": column "description" does not exist/,
    );
    // The engine keeps serving N+1's metadata; the stack would end in UPDATE_ROLLBACK_FAILED.
    expect(hasura.metadata).toEqual(loadMetadataDirectory(next.metadataDir));
  });
});
