import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, GraphQLObjectType, getNamedType, isLeafType, isListType, isNonNullType, getNullableType, parse, validate } from 'graphql';
import { parse as parseYaml } from 'yaml';
import { createMigratedDatabase } from '../../../../../test/support/postgres/migrated';
import { ALL_DOCUMENTS } from '../../../src/backend/hasura/documents';

const schema = buildSchema(readFileSync(join(__dirname, '../../../src/backend/hasura/schema.graphql'), 'utf8'));

describe('hasura GraphQL documents', () => {
  it.each(Object.entries(ALL_DOCUMENTS))('%s validates against the Hasura schema file', (name, document) => {
    const ast = parse(document);
    expect(validate(schema, ast).map((e) => e.message)).toEqual([]);
    const operation = ast.definitions.find((d) => d.kind === 'OperationDefinition');
    expect(operation && 'name' in operation ? operation.name?.value : undefined).toBe(name);
  });

  it('rejects a document that names a field Hasura would not generate', () => {
    const errors = validate(schema, parse('query { chat_room_by_id(id: "x") { id } }'));
    expect(errors.map((e) => e.message)).toEqual([expect.stringContaining('Cannot query field "chat_room_by_id"')]);
  });

  it("uses Hasura v2's generated names for the root fields and input types", () => {
    const query = schema.getQueryType()!.getFields();
    const mutation = schema.getMutationType()!.getFields();
    expect(Object.keys(query)).toEqual(
      expect.arrayContaining(['chat_rooms', 'chat_rooms_by_pk', 'chat_messages', 'chat_messages_by_pk', 'chat_members', 'chat_members_aggregate', 'chat_bans', 'users_by_pk']),
    );
    expect(Object.keys(mutation)).toEqual(expect.arrayContaining(['insert_chat_messages_one', 'update_chat_messages_by_pk', 'update_chat_members', 'insert_chat_bans_one', 'delete_chat_bans']));
    expect(String(mutation.update_chat_messages_by_pk!.args.find((a) => a.name === 'pk_columns')!.type)).toBe('chat_messages_pk_columns_input!');
    expect(String(mutation.update_chat_members!.args.find((a) => a.name === '_set')!.type)).toBe('chat_members_set_input');
    expect(String(mutation.delete_chat_bans!.args.find((a) => a.name === 'where')!.type)).toBe('chat_bans_bool_exp!');
    expect(String(query.chat_messages!.args.find((a) => a.name === 'order_by')!.type)).toBe('[chat_messages_order_by!]');
  });

  it('has exactly the columns of the migrated chat schema, one field per column, non-null where the column is NOT NULL', async () => {
    const db = await createMigratedDatabase('hsch');
    try {
      for (const table of ['chat_rooms', 'chat_messages', 'chat_members', 'chat_bans', 'link_previews', 'users']) {
        const { rows } = await db.pool.query<{ column_name: string; is_nullable: 'YES' | 'NO' }>(
          "SELECT column_name, is_nullable FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY column_name",
          [table],
        );
        const type = schema.getType(table) as GraphQLObjectType;
        // Hasura types a NOT NULL column's output field as non-null (T!).
        const scalarFields = Object.values(type.getFields())
          .filter((f) => isLeafType(getNamedType(f.type)))
          .map((f) => `${f.name}${isNonNullType(f.type) ? '!' : ''}`);
        expect({ table, columns: scalarFields.sort() }).toEqual({ table, columns: rows.map((r) => `${r.column_name}${r.is_nullable === 'NO' ? '!' : ''}`).sort() });
      }
    } finally {
      await db.drop();
    }
  });

  it('names every relationship as hasura-metadata/ tracks it (object vs array included)', () => {
    const metadataDir = join(__dirname, '../../../../../hasura-metadata/databases/default/tables');
    for (const table of ['chat_rooms', 'chat_messages', 'chat_members', 'chat_bans']) {
      const metadata = parseYaml(readFileSync(join(metadataDir, `public_${table}.yaml`), 'utf8')) as {
        object_relationships?: Array<{ name: string }>;
        array_relationships?: Array<{ name: string }>;
      };
      const type = schema.getType(table) as GraphQLObjectType;
      const relationships = Object.values(type.getFields())
        .filter((f) => !isLeafType(getNamedType(f.type)) && !f.name.endsWith('_aggregate'))
        .map((f) => ({ name: f.name, kind: isListType(getNullableType(f.type)) ? 'array' : 'object' }));
      for (const rel of relationships) {
        const tracked = (rel.kind === 'array' ? metadata.array_relationships : metadata.object_relationships) ?? [];
        expect({ table, ...rel, tracked: tracked.some((t) => t.name === rel.name) }).toEqual({ table, ...rel, tracked: true });
      }
    }
  });
});
