import { join } from 'node:path';
import { HasuraTable, loadMetadataDirectory } from '../../chat-domain/hasura-metadata-directory';

/** The repository's hasura-metadata/ as the applier sends it. */
export const METADATA_DIR = join(__dirname, '../../hasura-metadata');

export type Operation = 'select' | 'insert' | 'update' | 'delete';
export const OPERATIONS: readonly Operation[] = ['select', 'insert', 'update', 'delete'];

export interface Permission {
  readonly columns?: readonly string[] | '*';
  readonly filter?: BoolExp;
  readonly check?: BoolExp;
  readonly set?: Record<string, string>;
  readonly allow_aggregations?: boolean;
  readonly [key: string]: unknown;
}
export type BoolExp = { readonly [key: string]: unknown };

export interface RoleRule {
  readonly role: string;
  readonly permission: Permission;
}

export interface Relationship {
  readonly name: string;
  readonly using: {
    readonly foreign_key_constraint_on?: string | { readonly column: string; readonly table: { readonly name: string; readonly schema: string } };
    readonly manual_configuration?: { readonly column_mapping: Record<string, string>; readonly remote_table: { readonly name: string; readonly schema: string } };
  };
}

export interface EventTrigger {
  readonly name: string;
  readonly definition: { readonly insert?: { readonly columns: '*' | readonly string[] }; readonly update?: { readonly columns: '*' | readonly string[] }; readonly [k: string]: unknown };
  readonly retry_conf?: { readonly num_retries: number; readonly interval_sec: number; readonly timeout_sec: number };
  readonly webhook?: string;
  readonly webhook_from_env?: string;
  readonly headers?: readonly { readonly name: string; readonly value?: string; readonly value_from_env?: string }[];
}

export interface Table extends HasuraTable {
  readonly object_relationships?: readonly Relationship[];
  readonly array_relationships?: readonly Relationship[];
  readonly select_permissions?: readonly RoleRule[];
  readonly insert_permissions?: readonly RoleRule[];
  readonly update_permissions?: readonly RoleRule[];
  readonly delete_permissions?: readonly RoleRule[];
  readonly event_triggers?: readonly EventTrigger[];
}

/** The tables of the metadata's (single) source, by table name. */
export function metadataTables(): Map<string, Table> {
  const metadata = loadMetadataDirectory(METADATA_DIR);
  if (metadata.sources.length !== 1) throw new Error(`expected one source, found ${metadata.sources.length}`);
  return new Map((metadata.sources[0].tables as Table[]).map((t) => [t.table.name, t]));
}

export function permissions(table: Table, op: Operation): readonly RoleRule[] {
  return table[`${op}_permissions`] ?? [];
}

export function permission(table: Table, op: Operation, role: string): Permission | undefined {
  return permissions(table, op).find((r) => r.role === role)?.permission;
}

/** A relationship as declared: through a foreign key (resolved against the database) or a manual column mapping. */
export type DeclaredRelationship =
  | { readonly kind: 'object'; readonly via: 'foreign_key'; readonly localColumn: string }
  | { readonly kind: 'array'; readonly via: 'foreign_key'; readonly remoteTable: string; readonly remoteColumn: string }
  | { readonly kind: 'object' | 'array'; readonly via: 'manual'; readonly remoteTable: string; readonly mapping: Record<string, string> };

export function relationships(table: Table): Map<string, DeclaredRelationship> {
  const out = new Map<string, DeclaredRelationship>();
  for (const [kind, list] of [
    ['object', table.object_relationships ?? []],
    ['array', table.array_relationships ?? []],
  ] as const) {
    for (const rel of list) {
      if (out.has(rel.name)) throw new Error(`${table.table.name}: relationship ${rel.name} is declared twice`);
      const fk = rel.using.foreign_key_constraint_on;
      const manual = rel.using.manual_configuration;
      if (manual) out.set(rel.name, { kind, via: 'manual', remoteTable: manual.remote_table.name, mapping: manual.column_mapping });
      else if (typeof fk === 'string' && kind === 'object') out.set(rel.name, { kind, via: 'foreign_key', localColumn: fk });
      else if (fk && typeof fk === 'object' && kind === 'array') out.set(rel.name, { kind, via: 'foreign_key', remoteTable: fk.table.name, remoteColumn: fk.column });
      else throw new Error(`${table.table.name}.${rel.name}: unsupported relationship definition ${JSON.stringify(rel.using)}`);
    }
  }
  return out;
}

/**
 * A resolver for `columnsInBoolExp`: the table a relationship of `table` leads to, or
 * undefined when `name` is not one of its relationships. An object relationship through a
 * foreign key leads where the database's foreign key points.
 */
export function relationshipTargets(
  tables: ReadonlyMap<string, Table>,
  foreignKeys: readonly { readonly table: string; readonly column: string; readonly refTable: string }[],
): (table: string, name: string) => string | undefined {
  return (table, name) => {
    const t = tables.get(table);
    const rel = t && relationships(t).get(name);
    if (!rel) return undefined;
    if (rel.via === 'foreign_key' && rel.kind === 'object') {
      return foreignKeys.find((fk) => fk.table === table && fk.column === rel.localColumn)?.refTable;
    }
    return (rel as { remoteTable: string }).remoteTable;
  };
}

/**
 * Every column a boolean expression names on each table, following relationships
 * (`{room: {members: {user_id: ...}}}` names chat_messages.room, chat_rooms.members and
 * chat_members.user_id). `resolveRemote` gives the table a relationship leads to.
 */
export function columnsInBoolExp(
  exp: BoolExp | undefined,
  tableName: string,
  resolveRemote: (table: string, relationship: string) => string | undefined,
  out: { table: string; column: string }[] = [],
): { table: string; column: string }[] {
  if (!exp) return out;
  for (const [key, value] of Object.entries(exp)) {
    if (key === '_and' || key === '_or') {
      for (const sub of value as BoolExp[]) columnsInBoolExp(sub, tableName, resolveRemote, out);
    } else if (key === '_not') {
      columnsInBoolExp(value as BoolExp, tableName, resolveRemote, out);
    } else if (key === '_exists') {
      const { _table, _where } = value as { _table: { name: string }; _where: BoolExp };
      columnsInBoolExp(_where, _table.name, resolveRemote, out);
    } else if (key.startsWith('_')) {
      throw new Error(`unexpected operator ${key} at the top of a boolean expression on ${tableName}`);
    } else {
      const remote = resolveRemote(tableName, key);
      if (remote) {
        out.push({ table: tableName, column: `(relationship) ${key}` });
        columnsInBoolExp(value as BoolExp, remote, resolveRemote, out);
      } else {
        out.push({ table: tableName, column: key });
      }
    }
  }
  return out;
}
