import { BoolExp, DeclaredRelationship, relationships, Table } from './metadata-model';

/**
 * Translates a Hasura permission boolean expression into a SQL condition, the way
 * Hasura evaluates it: columns compare with the operators, a relationship becomes
 * EXISTS over the related rows, session variables (`X-Hasura-*`) become bound
 * parameters. It covers what our metadata uses, and throws on anything else, so the
 * row filters can be run against real rows in PostgreSQL.
 */
export interface SqlCondition {
  readonly sql: string;
  readonly params: unknown[];
}

const COMPARISONS: Record<string, string> = { _eq: '=', _neq: '<>', _gt: '>', _gte: '>=', _lt: '<', _lte: '<=' };

/** The referenced table and column of a single-column foreign key on table.column. */
export type ForeignKeyLookup = (table: string, column: string) => { table: string; column: string } | undefined;

export interface BoolExpContext {
  readonly tables: Map<string, Table>;
  readonly session: Record<string, string>;
  readonly foreignKey: ForeignKeyLookup;
}

export function boolExpToSql(exp: BoolExp | undefined, table: string, alias: string, ctx: BoolExpContext, params: unknown[] = [], depth = 0): SqlCondition {
  const { tables, session } = ctx;
  const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
  const value = (v: unknown) => {
    if (typeof v === 'string' && /^x-hasura-/i.test(v)) {
      const key = Object.keys(session).find((k) => k.toLowerCase() === v.toLowerCase());
      if (!key) throw new Error(`session variable ${v} is not set`);
      params.push(session[key]);
    } else {
      params.push(v);
    }
    return `$${params.length}`;
  };
  const parts: string[] = [];
  for (const [key, arg] of Object.entries(exp ?? {})) {
    if (key === '_and' || key === '_or') {
      const subs = (arg as BoolExp[]).map((e) => `(${boolExpToSql(e, table, alias, ctx, params, depth).sql})`);
      parts.push(subs.length ? subs.join(key === '_and' ? ' AND ' : ' OR ') : key === '_and' ? 'TRUE' : 'FALSE');
      continue;
    }
    if (key === '_not') {
      parts.push(`NOT (${boolExpToSql(arg as BoolExp, table, alias, ctx, params, depth).sql})`);
      continue;
    }
    if (key.startsWith('_')) throw new Error(`operator ${key} is not supported here`);
    const rel = relationships(tables.get(table)!).get(key);
    if (rel) {
      const { remoteTable, on } = join(rel, table, alias, `r${depth + 1}`, ctx.foreignKey);
      const inner = boolExpToSql(arg as BoolExp, remoteTable, `r${depth + 1}`, ctx, params, depth + 1);
      parts.push(`EXISTS (SELECT 1 FROM ${ident(remoteTable)} r${depth + 1} WHERE ${on} AND (${inner.sql}))`);
      continue;
    }
    for (const [op, operand] of Object.entries(arg as Record<string, unknown>)) {
      const column = `${alias}.${ident(key)}`;
      if (op in COMPARISONS) parts.push(`${column} ${COMPARISONS[op]} ${value(operand)}`);
      else if (op === '_in') parts.push(`${column} = ANY(${value(operand)})`);
      else if (op === '_is_null') parts.push(operand ? `${column} IS NULL` : `${column} IS NOT NULL`);
      else throw new Error(`operator ${op} is not supported here`);
    }
  }
  return { sql: parts.length ? parts.join(' AND ') : 'TRUE', params };
}

function join(rel: DeclaredRelationship, table: string, alias: string, remoteAlias: string, fkLookup: ForeignKeyLookup): { remoteTable: string; on: string } {
  if (rel.via === 'manual') {
    const on = Object.entries(rel.mapping).map(([l, r]) => `${remoteAlias}."${r}" = ${alias}."${l}"`);
    return { remoteTable: rel.remoteTable, on: on.join(' AND ') };
  }
  if (rel.kind === 'object') {
    const target = fkLookup(table, rel.localColumn);
    if (!target) throw new Error(`no foreign key on ${table}.${rel.localColumn}`);
    return { remoteTable: target.table, on: `${remoteAlias}."${target.column}" = ${alias}."${rel.localColumn}"` };
  }
  const target = fkLookup(rel.remoteTable, rel.remoteColumn);
  if (!target || target.table !== table) throw new Error(`no foreign key from ${rel.remoteTable}.${rel.remoteColumn} to ${table}`);
  return { remoteTable: rel.remoteTable, on: `${remoteAlias}."${rel.remoteColumn}" = ${alias}."${target.column}"` };
}
