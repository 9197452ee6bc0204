import { MIGRATIONS_TABLE } from '../../lambda/migrations/runner';
import { TestDatabase } from '../support/postgres';
import { ForeignKey, readPublicSchemaCatalog } from '../support/postgres/catalog';
import { createMigratedDatabase } from '../support/postgres/migrated';
import { columnsInBoolExp, metadataTables, OPERATIONS, permissions, relationships, relationshipTargets, Table } from './metadata-model';

/**
 * hasura-metadata/ against the schema that sql/ really creates (PostgreSQL 17, every
 * migration applied by the deploy-time runner). Hasura cannot run here; these are the
 * checks it makes when it builds its schema cache, so a mismatch fails here instead of
 * failing the deploy with "inconsistent metadata".
 */
let db: TestDatabase;
let columns: Map<string, Set<string>>;
let foreignKeys: readonly ForeignKey[];
let uniqueColumns: ReadonlySet<string>;
let tables: Map<string, Table>;
let remoteTableOf: (table: string, relationship: string) => string | undefined;

beforeAll(async () => {
  db = await createMigratedDatabase('hasura_meta');
  ({ columns, foreignKeys, uniqueColumns } = await readPublicSchemaCatalog(db.pool));
  tables = metadataTables();
  remoteTableOf = relationshipTargets(tables, foreignKeys);
});

afterAll(() => db?.drop());

const hasColumn = (table: string, column: string) => columns.get(table)?.has(column) ?? false;

describe('hasura-metadata/ against the migrated chat schema', () => {
  it('tracks only tables of the public schema that exist', () => {
    for (const t of tables.values()) {
      expect(t.table.schema).toBe('public');
      expect({ table: t.table.name, exists: columns.has(t.table.name) }).toEqual({ table: t.table.name, exists: true });
    }
  });

  it('tracks every table sql/ creates (the runner bookkeeping table aside)', () => {
    const created = [...columns.keys()].filter((name) => name !== MIGRATIONS_TABLE).sort();
    expect(created).toEqual(['chat_bans', 'chat_members', 'chat_messages', 'chat_rooms', 'link_previews', 'users']);
    expect([...tables.keys()].sort()).toEqual(created);
  });

  it('backs every foreign-key relationship with a single-column foreign key in the database', () => {
    const missing: string[] = [];
    for (const t of tables.values()) {
      for (const [name, rel] of relationships(t)) {
        if (rel.via !== 'foreign_key') continue;
        const found =
          rel.kind === 'object'
            ? foreignKeys.some((fk) => fk.table === t.table.name && fk.column === rel.localColumn)
            : foreignKeys.some((fk) => fk.table === rel.remoteTable && fk.column === rel.remoteColumn && fk.refTable === t.table.name);
        if (!found) missing.push(`${t.table.name}.${name}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('maps every manual relationship onto existing columns, and an object one onto a unique column', () => {
    const problems: string[] = [];
    for (const t of tables.values()) {
      for (const [name, rel] of relationships(t)) {
        if (rel.via !== 'manual') continue;
        for (const [local, remote] of Object.entries(rel.mapping)) {
          if (!hasColumn(t.table.name, local)) problems.push(`${t.table.name}.${name}: no column ${t.table.name}.${local}`);
          if (!hasColumn(rel.remoteTable, remote)) problems.push(`${t.table.name}.${name}: no column ${rel.remoteTable}.${remote}`);
          // An object relationship must find at most one row, or Hasura returns an arbitrary one.
          if (rel.kind === 'object' && !uniqueColumns.has(`${rel.remoteTable}.${remote}`)) problems.push(`${t.table.name}.${name}: ${rel.remoteTable}.${remote} is not unique`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('gives every relationship a name that is not also a column of its table', () => {
    const clashes = [...tables.values()].flatMap((t) => [...relationships(t).keys()].filter((n) => hasColumn(t.table.name, n)).map((n) => `${t.table.name}.${n}`));
    expect(clashes).toEqual([]);
  });

  it('names only existing columns in permissions: column lists, presets, filters and checks', () => {
    const missing: string[] = [];
    for (const t of tables.values()) {
      const name = t.table.name;
      for (const op of OPERATIONS) {
        for (const { role, permission } of permissions(t, op)) {
          const where = `${name} ${op} (${role})`;
          if (permission.columns === '*') missing.push(`${where}: columns must be listed, not '*'`);
          for (const c of permission.columns ?? []) if (!hasColumn(name, c)) missing.push(`${where}: column ${c}`);
          for (const c of Object.keys(permission.set ?? {})) if (!hasColumn(name, c)) missing.push(`${where}: preset column ${c}`);
          for (const exp of [permission.filter, permission.check]) {
            for (const ref of columnsInBoolExp(exp, name, remoteTableOf)) {
              if (!ref.column.startsWith('(relationship)') && !hasColumn(ref.table, ref.column)) missing.push(`${where}: filter column ${ref.table}.${ref.column}`);
            }
          }
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('resolves every relationship a row filter follows', () => {
    // chat_messages → room → members → user_id, and chat_rooms → members → user_id.
    expect(remoteTableOf('chat_messages', 'room')).toBe('chat_rooms');
    expect(remoteTableOf('chat_rooms', 'members')).toBe('chat_members');
    expect(remoteTableOf('chat_messages', 'sender')).toBe('users');
    expect(remoteTableOf('chat_messages', 'link_preview')).toBe('link_previews');
  });

  it('presets only session variables onto text columns that can hold a Cognito sub', async () => {
    const types = await db.pool.query<{ table_name: string; column_name: string; data_type: string }>(
      `SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public'`,
    );
    const typeOf = (t: string, c: string) => types.rows.find((r) => r.table_name === t && r.column_name === c)?.data_type;
    const presets = [...tables.values()].flatMap((t) =>
      OPERATIONS.flatMap((op) => permissions(t, op).flatMap(({ permission }) => Object.entries(permission.set ?? {}).map(([c, v]) => ({ t: t.table.name, c, v })))),
    );
    expect(presets.length).toBeGreaterThan(0);
    for (const p of presets) {
      expect({ ...p, type: typeOf(p.t, p.c) }).toEqual({ ...p, v: 'X-Hasura-User-Id', type: 'text' });
    }
  });

  it('fires the link-preview event trigger on chat_messages columns that exist', () => {
    const triggers = [...tables.values()].flatMap((t) => (t.event_triggers ?? []).map((e) => ({ table: t.table.name, e })));
    expect(triggers.map((x) => `${x.table}/${x.e.name}`)).toEqual(['chat_messages/chat_messages_link_preview']);
    for (const { table, e } of triggers) {
      for (const spec of [e.definition.insert, e.definition.update]) {
        if (spec && spec.columns !== '*') for (const c of spec.columns) expect(hasColumn(table, c)).toBe(true);
      }
    }
  });
});
