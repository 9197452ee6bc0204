import { loadMetadataDirectory } from '../../../chat-domain/hasura-metadata-directory';
import { METADATA_DIR } from '../../hasura-metadata/metadata-model';
import { TestDatabase } from '../../support/postgres';
import { PublicSchemaCatalog, readPublicSchemaCatalog } from '../../support/postgres/catalog';
import { createMigratedDatabase } from '../../support/postgres/migrated';
import { schemaInconsistencies } from './hasura-stand-in';

/** The stand-in's schema check, on the repository metadata over the migrated schema and on broken copies of it. */
let db: TestDatabase;
let catalog: PublicSchemaCatalog;
beforeAll(async () => {
  db = await createMigratedDatabase('standin');
  catalog = await readPublicSchemaCatalog(db.pool);
});
afterAll(() => db?.drop());

type Metadata = { sources: { name: string; tables: Record<string, unknown>[] }[] } & Record<string, unknown>;
const metadata = (): Metadata => JSON.parse(JSON.stringify(loadMetadataDirectory(METADATA_DIR))) as Metadata;
const table = (m: Metadata, name: string) => m.sources[0].tables.find((t) => (t.table as { name: string }).name === name) as Record<string, never>;
const reasons = (m: Metadata) => (schemaInconsistencies(m, catalog) as { name: string; reason: string }[]).map((o) => `${o.name}: ${o.reason}`);

describe('schemaInconsistencies (the stand-in engine building its schema cache)', () => {
  it('finds nothing wrong with the repository metadata over the migrated schema', () => {
    expect(reasons(metadata())).toEqual([]);
  });

  it('reports a foreign-key relationship the database has no foreign key for', () => {
    const m = metadata();
    (table(m, 'chat_messages').object_relationships as { name: string; using: unknown }[]).push({ name: 'editor', using: { foreign_key_constraint_on: 'content' } });
    expect(reasons(m)).toEqual([
      'object_relation editor in table chat_messages in source default: Inconsistent object: in table "chat_messages": in relationship "editor": no foreign constraint exists on the given column(s)',
    ]);
  });

  it('reports a filter that names a missing column through a relationship, and a preset onto a missing column', () => {
    const m = metadata();
    const select = (table(m, 'chat_messages').select_permissions as { role: string; permission: { filter: unknown } }[]).find((r) => r.role === 'user')!;
    select.permission.filter = { room: { members: { member_since: { _is_null: false } } } };
    const insert = (table(m, 'chat_messages').insert_permissions as { role: string; permission: { set: Record<string, string> } }[]).find((r) => r.role === 'user')!;
    insert.permission.set = { ...insert.permission.set, author_id: 'X-Hasura-User-Id' };
    expect(reasons(m)).toEqual([
      'select_permission user in table chat_messages in source default: Inconsistent object: in table "chat_messages": in permission for role "user": "member_since" does not exist',
      'insert_permission user in table chat_messages in source default: Inconsistent object: in table "chat_messages": in permission for role "user": column "author_id" does not exist',
    ]);
  });
});
