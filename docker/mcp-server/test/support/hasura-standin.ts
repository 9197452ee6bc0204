import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { buildSchema, BREAK, DocumentNode, execute, getNamedType, GraphQLError, GraphQLFieldResolver, GraphQLSchema, isLeafType, parse, TypeInfo, validate, visit, visitWithTypeInfo } from 'graphql';
import { DatabaseError, Pool, PoolClient, QueryConfig, QueryResult, types } from 'pg';
import { loadMetadataDirectory } from '../../../../chat-domain/hasura-metadata-directory';
import { HasuraError, hasuraHttpLogLine, HasuraLoggingSettings, hasuraLoggingSettings } from '../../../../test/support/hasura-http-log';
import { CognitoStandIn, HASURA_CLAIMS } from './cognito-standin';

/**
 * A stand-in for Hasura GraphQL Engine v2 on 127.0.0.1, over the REAL migrated chat schema on
 * PostgreSQL 17: it serves the generated schema in src/backend/hasura/schema.graphql, runs each root
 * field as SQL (so the chat-rules trigger, CHECKs, foreign keys and the one-active-ban exclusion
 * answer for real), and shapes answers and errors as Hasura's API reference documents them:
 *   - 200 `{data}`, or 200 `{errors: [{message, extensions: {path: "$...", code, internal?}}]}`;
 *   - JWT mode as Hasura.Server.Auth.JWT runs it: no Authorization header → invalid-headers; the
 *     token's iss and aud matched exactly against the issuer and audience of the JWT secret JSON
 *     the engine is given (invalid-jwt JWTNotInIssuer / JWTNotInAudience); the Cognito ID token's stringified-JSON claims under https://hasura.io/jwt/claims
 *     (missing or malformed → jwt-invalid-claims); `x-hasura-role` checked against
 *     x-hasura-allowed-roles (access-denied). The body is parsed first: invalid JSON → invalid-json;
 *   - Postgres errors mapped as graphql-engine does: 23514 → permission-error "Check constraint
 *     violation. …", 23503/23505/23P01 → constraint-violation with a prefix, any other class-23
 *     code (the chat rules' 23C0x) → constraint-violation with the bare message, 22025 →
 *     bad-request, other 22xxx → data-exception, anything else → unexpected "database query error".
 *     Only that last one has `extensions.internal` (the Postgres error), and only with
 *     `internalErrors` (HASURA_GRAPHQL_DEV_MODE=true) or for the admin role, which the agent never uses.
 *   - mutation output (insert_one's row, returning) read from the written rows without the select
 *     row filter, as Translate/Returning.hs builds it; relationships inside it keep their filters.
 *   - the permissions of the REAL hasura-metadata/ for the request's role, as Hasura derives a
 *     role's schema from them: a root field, column or relationship the role cannot select, an
 *     insert or _set column the role cannot set (columns minus presets) → validation-failed
 *     "field 'x' not found in type: 't'"; presets filled from the session (X-Hasura-User-Id);
 *     select/update/delete row filters applied; insert and update checks → permission-error.
 *   - on_conflict as graphql-engine builds it (Hasura.Backends.Postgres.Schema.OnConflict, and its
 *     regression test InsertOnConflict8260Spec): offered to every role that may insert into a table
 *     with a unique or primary key constraint. update_columns may name only the role's UPDATE
 *     columns; a role without any gets an enum holding just a placeholder, so `update_columns: []`
 *     (ON CONFLICT DO NOTHING) is all it can ask for, and a conflicting insert_<t>_one returns null.
 *   Not modelled: column limits inside `where` and `order_by`, column presets on update beyond the
 *   session's user id, and the update filter and presets of an on_conflict DO UPDATE.
 *   - the reserved role `admin` is refused outright: real Hasura would give it unrestricted access
 *     (no permissions apply), which is exactly what the agent must never have.
 */

const SCHEMA_FILE = join(__dirname, '../../src/backend/hasura/schema.graphql');
const METADATA_DIR = join(__dirname, '../../../../hasura-metadata');

type Operation = 'select' | 'insert' | 'update' | 'delete';
interface Permission {
  columns: string[];
  filter?: Where;
  check?: Where;
  set?: Record<string, string>;
  allow_aggregations?: boolean;
}
/** table → operation → role → permission, from hasura-metadata/. */
type Permissions = Map<string, Map<Operation, Map<string, Permission>>>;

function loadPermissions(dir: string): Permissions {
  const [source] = loadMetadataDirectory(dir).sources;
  const out: Permissions = new Map();
  for (const table of source!.tables) {
    const byOp = new Map<Operation, Map<string, Permission>>();
    for (const op of ['select', 'insert', 'update', 'delete'] as const) {
      const rules = (table[`${op}_permissions`] ?? []) as Array<{ role: string; permission: Permission }>;
      byOp.set(op, new Map(rules.map((r) => [r.role, { ...r.permission, columns: r.permission.columns ?? [] }])));
    }
    out.set(table.table.name, byOp);
  }
  return out;
}

/** The table and operation behind a root field, by Hasura v2's generated names. */
function rootFieldTarget(field: string): { table: string; op: Operation; aggregate: boolean } {
  let m: RegExpExecArray | null;
  if ((m = /^insert_(\w+?)(?:_one)?$/.exec(field))) return { table: m[1]!, op: 'insert', aggregate: false };
  if ((m = /^update_(\w+?)(?:_by_pk|_many)?$/.exec(field))) return { table: m[1]!, op: 'update', aggregate: false };
  if ((m = /^delete_(\w+?)(?:_by_pk)?$/.exec(field))) return { table: m[1]!, op: 'delete', aggregate: false };
  if ((m = /^(\w+)_aggregate$/.exec(field))) return { table: m[1]!, op: 'select', aggregate: true };
  return { table: field.replace(/_by_pk$/, ''), op: 'select', aggregate: false };
}

/** A bool_exp with session variables ('X-Hasura-User-Id') replaced by the session's values. */
function withSession(exp: unknown, session: Record<string, string>): Where {
  if (typeof exp === 'string') return (session[exp.toLowerCase()] ?? exp) as unknown as Where;
  if (Array.isArray(exp)) return exp.map((e) => withSession(e, session)) as unknown as Where;
  if (exp === null || typeof exp !== 'object') return exp as Where;
  return Object.fromEntries(Object.entries(exp).map(([k, v]) => [k, withSession(v, session)]));
}

const isDatabaseError = (error: unknown): error is DatabaseError =>
  error instanceof Error && typeof (error as DatabaseError).code === 'string' && typeof (error as DatabaseError).severity === 'string';

const validationError = (message: string, path: string) => new GraphQLError(message, { extensions: { path, code: 'validation-failed' } });

interface Relationship {
  table: string;
  kind: 'object' | 'array';
  from: string;
  to: string;
}

const RELATIONSHIPS: Record<string, Record<string, Relationship>> = {
  chat_rooms: {
    messages: { table: 'chat_messages', kind: 'array', from: 'id', to: 'room_id' },
    members: { table: 'chat_members', kind: 'array', from: 'id', to: 'room_id' },
    bans: { table: 'chat_bans', kind: 'array', from: 'id', to: 'room_id' },
  },
  chat_messages: {
    room: { table: 'chat_rooms', kind: 'object', from: 'room_id', to: 'id' },
    sender: { table: 'users', kind: 'object', from: 'user_id', to: 'id' },
    link_preview: { table: 'link_previews', kind: 'object', from: 'phenom_id', to: 'phenom_id' },
  },
  chat_members: {
    room: { table: 'chat_rooms', kind: 'object', from: 'room_id', to: 'id' },
    user: { table: 'users', kind: 'object', from: 'user_id', to: 'id' },
  },
  chat_bans: {
    room: { table: 'chat_rooms', kind: 'object', from: 'room_id', to: 'id' },
    user: { table: 'users', kind: 'object', from: 'user_id', to: 'id' },
  },
};
const TABLES = ['chat_rooms', 'chat_messages', 'chat_members', 'chat_bans', 'users', 'link_previews'];
const TIMESTAMPTZ_OID = 1184;

/** Postgres prints `2026-01-02 03:04:05.123456+00`; Hasura returns `2026-01-02T03:04:05.123456+00:00`. */
const hasuraTimestamp = (value: string) => value.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00');

type Row = Record<string, unknown>;
type Where = Record<string, unknown>;

class Sql {
  readonly params: unknown[] = [];
  private aliases = 0;

  alias(): string {
    return `t${this.aliases++}`;
  }

  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  where(table: string, alias: string, where: Where | undefined): string {
    const parts: string[] = [];
    for (const [key, value] of Object.entries(where ?? {})) {
      if (key === '_and') parts.push(`(${(value as Where[]).map((w) => this.where(table, alias, w)).join(' AND ') || 'true'})`);
      else if (key === '_or') parts.push(`(${(value as Where[]).map((w) => this.where(table, alias, w)).join(' OR ') || 'false'})`);
      else if (key === '_not') parts.push(`NOT (${this.where(table, alias, value as Where)})`);
      else if (RELATIONSHIPS[table]?.[key]) {
        const rel = RELATIONSHIPS[table][key];
        const a = this.alias();
        parts.push(`EXISTS (SELECT 1 FROM ${rel.table} ${a} WHERE ${a}.${rel.to} = ${alias}.${rel.from} AND ${this.where(rel.table, a, value as Where)})`);
      } else {
        for (const [op, v] of Object.entries(value as Record<string, unknown>)) parts.push(this.comparison(`${alias}."${key}"`, op, v));
      }
    }
    return parts.length ? parts.join(' AND ') : 'true';
  }

  private comparison(column: string, op: string, value: unknown): string {
    const simple: Record<string, string> = { _eq: '=', _neq: '<>', _gt: '>', _gte: '>=', _lt: '<', _lte: '<=', _like: 'LIKE', _ilike: 'ILIKE' };
    if (simple[op]) return `${column} ${simple[op]} ${this.param(value)}`;
    if (op === '_in') return `${column} = ANY(${this.param(value)})`;
    if (op === '_nin') return `NOT (${column} = ANY(${this.param(value)}))`;
    if (op === '_is_null') return value ? `${column} IS NULL` : `${column} IS NOT NULL`;
    throw new Error(`the Hasura stand-in does not implement ${op}`);
  }

  orderBy(alias: string, orderBy: unknown): string {
    const list = (Array.isArray(orderBy) ? orderBy : orderBy ? [orderBy] : []) as Array<Record<string, string>>;
    const terms = list.flatMap((o) =>
      Object.entries(o).map(([column, dir]) => {
        const [direction, , nulls] = dir.split('_');
        return `${alias}."${column}" ${direction!.toUpperCase()}${nulls ? ` NULLS ${nulls.toUpperCase()}` : ''}`;
      }),
    );
    return terms.length ? ` ORDER BY ${terms.join(', ')}` : '';
  }
}

/** One connection per request; resolvers run concurrently, so their statements are queued on it. */
class Connection {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(readonly client: PoolClient) {}

  query(config: QueryConfig): Promise<QueryResult> {
    const next = this.tail.then(() => this.client.query(config));
    this.tail = next.catch(() => undefined);
    return next;
  }
}

interface Context {
  client: Connection;
  role: string;
  /** Session variables by lower-case name (x-hasura-user-id, x-hasura-role). */
  session: Record<string, string>;
}

/** What Hasura.Server.Auth.JWT takes from the JWT secret for the claims checks the stand-in makes. */
interface JwtChecks {
  readonly issuer?: string;
  readonly audiences?: readonly string[];
}

/**
 * The JWT secret read as graphql-engine's `FromJSON JWTConfig` reads it: `audience` a string or an array
 * (jose's Audience), `issuer` a string, both optional. The stand-in models only Cognito ID tokens with
 * stringified-JSON claims under https://hasura.io/jwt/claims, so any other claims setting is refused
 * here rather than silently read another way.
 */
function parseJwtSecret(text: string): JwtChecks {
  const secret = JSON.parse(text) as { issuer?: unknown; audience?: unknown; claims_namespace?: unknown; claims_format?: unknown; claims_map?: unknown };
  if (secret.claims_namespace !== HASURA_CLAIMS || secret.claims_format !== 'stringified_json' || secret.claims_map !== undefined) {
    throw new Error(`the Hasura stand-in models claims_namespace ${HASURA_CLAIMS} with claims_format stringified_json only, got ${text}`);
  }
  const audience = secret.audience;
  if (audience !== undefined && typeof audience !== 'string' && !(Array.isArray(audience) && audience.every((a) => typeof a === 'string'))) {
    throw new Error(`JWT secret: audience must be a string or a list of strings, got ${JSON.stringify(audience)}`);
  }
  if (secret.issuer !== undefined && typeof secret.issuer !== 'string') throw new Error(`JWT secret: issuer must be a string, got ${JSON.stringify(secret.issuer)}`);
  return { issuer: secret.issuer, audiences: audience === undefined ? undefined : [audience].flat() };
}

export interface HasuraStandInOptions {
  readonly pool: Pool;
  readonly cognito: CognitoStandIn;
  /**
   * HASURA_GRAPHQL_DEV_MODE=true: "database query error" carries the Postgres error in
   * extensions.internal for every role (our engine runs with false). Errors Hasura maps itself
   * (classes 22 and 23) never carry it.
   */
  readonly internalErrors?: boolean;
  /**
   * HASURA_GRAPHQL_JWT_SECRET as the engine is given it (lib/chat-hasura-lite/jwt.ts renders it): its
   * `issuer` and `audience` are checked as Hasura checks them (default: the Cognito stand-in's issuer and
   * client id). Tokens are the Cognito stand-in's HS256 ones whatever `type`/`jwk_url` say.
   */
  readonly jwtSecret?: string;
  /** A Hasura metadata directory (default: the repo's hasura-metadata/). */
  readonly metadataDir?: string;
  /**
   * The engine's environment for its logs (lib/chat-hasura-lite/engine-logging.ts): the stand-in then
   * writes, into `httpLog`, the http-log line graphql-engine writes for each request it answers.
   * @default - no log lines
   */
  readonly engineEnv?: Readonly<Record<string, string>>;
}

export class HasuraStandIn {
  readonly schema: GraphQLSchema = buildSchema(readFileSync(SCHEMA_FILE, 'utf8'));
  /** Operation names in the order they arrived, for assertions. */
  readonly operations: string[] = [];
  /** The role each operation ran as, in the same order. */
  readonly roles: string[] = [];
  internalErrors: boolean;
  private readonly jwt: JwtChecks;
  private readonly permissions: Permissions;
  /** The http-log lines written so far, with `engineEnv`. */
  readonly httpLog: string[] = [];
  private readonly logSettings?: HasuraLoggingSettings;
  /** When set, every request waits this long first (timeouts). */
  delayMs = 0;
  url = '';
  private server?: Server;

  constructor(private readonly options: HasuraStandInOptions) {
    this.internalErrors = options.internalErrors ?? false;
    this.permissions = loadPermissions(options.metadataDir ?? METADATA_DIR);
    this.jwt = parseJwtSecret(
      options.jwtSecret ??
        JSON.stringify({
          type: 'RS256',
          jwk_url: `${options.cognito.issuer}/.well-known/jwks.json`,
          issuer: options.cognito.issuer,
          audience: options.cognito.options.clientId,
          claims_namespace: HASURA_CLAIMS,
          claims_format: 'stringified_json',
        }),
    );
    this.logSettings = options.engineEnv && hasuraLoggingSettings(options.engineEnv);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res).catch((e: Error) => res.writeHead(500).end(e.message)));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/graphql`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private writeHttpLog(
    status: number,
    url: string,
    rawBody: string,
    requestId: string,
    logged: { body?: Record<string, unknown>; session?: Record<string, string>; timed: boolean },
    started: bigint,
    text: string,
    answer: unknown,
  ): void {
    if (!this.logSettings) return;
    const a = answer as { errors?: Array<{ message: string; extensions?: { path?: string; code?: string } }>; error?: string; path?: string; code?: string };
    const first = a.errors?.[0];
    const error: HasuraError | undefined = first
      ? { error: first.message, path: first.extensions?.path ?? '$', code: first.extensions?.code ?? 'unexpected' }
      : a.error !== undefined
        ? { error: a.error, path: a.path ?? '$', code: a.code ?? 'unexpected' }
        : undefined;
    const seconds = logged.timed ? Number(process.hrtime.bigint() - started) / 1e9 : undefined;
    const line = hasuraHttpLogLine(
      this.logSettings,
      { body: logged.body, rawBody, url, status, requestId, userVars: logged.session, seconds, at: new Date() },
      error ? { error } : { responseSize: Buffer.byteLength(text) },
    );
    if (line) this.httpLog.push(line);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    // What the http-log line of this request says (Hasura.Server.App mkSpockAction): the parsed body, the
    // session and the service time only once the request got past parsing and authentication.
    const started = process.hrtime.bigint();
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const logged: { body?: Record<string, unknown>; session?: Record<string, string>; timed: boolean } = { timed: false };
    const requestId = typeof req.headers['x-request-id'] === 'string' ? req.headers['x-request-id'] : randomUUID();
    const reply = (status: number, body: unknown, log = true): void => {
      const text = JSON.stringify(body);
      if (log) this.writeHttpLog(status, req.url ?? '/', rawBody, requestId, logged, started, text, body);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(text);
    };
    const fail = (code: string, message: string, path = '$'): void => reply(200, { errors: [{ extensions: { path, code }, message }] });
    if (req.method !== 'POST' || req.url !== '/v1/graphql') return reply(404, { path: '$', error: 'resource does not exist', code: 'not-found' });

    // graphql-engine parses the body before it authenticates (Hasura.Server.App: AHGraphQLRequest),
    // and answers every /v1/graphql error with HTTP 200 (maybeMod200).
    let body: { query?: string; variables?: Record<string, unknown>; operationName?: string };
    try {
      body = JSON.parse(rawBody);
    } catch (e) {
      return fail('invalid-json', `Error in $: ${(e as Error).message}`);
    }

    const auth = this.authenticate(req);
    if (!auth.ok) return fail(auth.code, auth.message);
    const { session } = auth;
    Object.assign(logged, { body, session, timed: true });
    const role = session['x-hasura-role']!;
    // Not the engine's answer, so no engine log line either.
    if (role === 'admin') return reply(500, { error: 'the Hasura stand-in refuses the reserved role admin: real Hasura would bypass every permission for it; use chat_admin or user' }, false);

    let document;
    try {
      document = parse(body.query ?? '');
    } catch (e) {
      return fail('validation-failed', `not a valid graphql query: ${(e as Error).message}`, '$.query');
    }
    const invalid = validate(this.schema, document);
    if (invalid.length) return fail('validation-failed', invalid[0]!.message, '$.selectionSet');
    const hidden = this.outsideRoleSchema(document, role);
    if (hidden) return fail('validation-failed', hidden.message, hidden.extensions.path as string);
    this.operations.push(body.operationName ?? '');
    this.roles.push(role);

    const isMutation = document.definitions.some((d) => d.kind === 'OperationDefinition' && d.operation === 'mutation');
    const client = await this.options.pool.connect();
    try {
      await client.query("SET TIME ZONE 'UTC'");
      if (isMutation) await client.query('BEGIN');
      const result = await execute({
        schema: this.schema,
        document,
        variableValues: body.variables,
        operationName: body.operationName,
        contextValue: { client: new Connection(client), role, session } satisfies Context,
        fieldResolver: this.resolve,
      });
      if (result.errors?.length) {
        if (isMutation) await client.query('ROLLBACK');
        return reply(200, { errors: result.errors.map((e) => ({ message: e.message, extensions: e.extensions ?? { path: '$', code: 'unexpected' } })) });
      }
      if (isMutation) await client.query('COMMIT');
      return reply(200, { data: result.data });
    } finally {
      client.release();
    }
  }

  /**
   * JWT mode as Hasura.Server.Auth.JWT does it (processJwt_, parseClaimsMap, parseHasuraClaims):
   * the session variables, or the error graphql-engine answers with.
   */
  private authenticate(req: IncomingMessage): { ok: true; session: Record<string, string> } | { ok: false; code: string; message: string } {
    const auth = req.headers.authorization;
    if (auth === undefined) return { ok: false, code: 'invalid-headers', message: "Missing 'Authorization' or 'Cookie' header in JWT authentication mode" };
    const words = auth.split(/\s+/).filter(Boolean);
    if (words.length !== 2 || words[0] !== 'Bearer') return { ok: false, code: 'invalid-headers', message: 'Malformed Authorization header' };
    const verified = this.options.cognito.verify(words[1]!);
    if (!verified.ok) return { ok: false, code: 'invalid-jwt', message: `Could not verify JWT: ${verified.reason}` };
    // jose checks iss and aud only when the token has them (Cognito ID tokens always do; access tokens
    // have no aud, and no Hasura claims either). verifyJwt's audCheck: any of the token's audiences
    // `elem` the configured ones; with no audience configured, every token passes.
    const { iss, aud } = verified.claims;
    if (this.jwt.issuer !== undefined && iss !== undefined && iss !== this.jwt.issuer) return { ok: false, code: 'invalid-jwt', message: 'Could not verify JWT: JWTNotInIssuer' };
    const audiences = this.jwt.audiences;
    if (audiences && aud !== undefined && ![aud].flat().some((a) => audiences.includes(String(a)))) return { ok: false, code: 'invalid-jwt', message: 'Could not verify JWT: JWTNotInAudience' };

    const rawClaims = verified.claims[HASURA_CLAIMS];
    if (rawClaims === undefined) return { ok: false, code: 'jwt-invalid-claims', message: `claims key: '${HASURA_CLAIMS}' not found` };
    if (typeof rawClaims !== 'string') return { ok: false, code: 'jwt-invalid-claims', message: 'expecting a string when claims_format is stringified_json' };
    let claims: unknown;
    try {
      claims = JSON.parse(rawClaims);
    } catch {
      claims = undefined;
    }
    if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) {
      return { ok: false, code: 'jwt-invalid-claims', message: `expecting stringified json at: 'claims_namespace ${HASURA_CLAIMS}', but found: ${rawClaims}` };
    }
    const hasura = Object.fromEntries(Object.entries(claims).map(([k, v]) => [k.toLowerCase(), v]));
    const allowed = hasura['x-hasura-allowed-roles'];
    const fallback = hasura['x-hasura-default-role'];
    if (allowed === undefined) return { ok: false, code: 'jwt-missing-role-claims', message: 'JWT claim does not contain x-hasura-allowed-roles' };
    if (!Array.isArray(allowed) || !allowed.every((r) => typeof r === 'string')) return { ok: false, code: 'jwt-invalid-claims', message: 'invalid x-hasura-allowed-roles; should be a list of roles' };
    if (fallback === undefined) return { ok: false, code: 'jwt-missing-role-claims', message: 'JWT claim does not contain x-hasura-default-role' };
    if (typeof fallback !== 'string') return { ok: false, code: 'jwt-invalid-claims', message: 'invalid x-hasura-default-role; should be a single role name' };
    const role = (req.headers['x-hasura-role'] as string | undefined) ?? fallback;
    if (!allowed.includes(role)) return { ok: false, code: 'access-denied', message: 'Your requested role is not in allowed roles' };
    return { ok: true, session: { 'x-hasura-role': role, 'x-hasura-user-id': String(hasura['x-hasura-user-id']) } };
  }

  private readonly resolve: GraphQLFieldResolver<unknown, Context> = async (source, args, ctx, info) => {
    const field = info.fieldName;
    const parent = info.parentType.name;
    if (parent === 'query_root') return this.query(ctx, field, args);
    if (parent === 'mutation_root') return this.mutate(ctx, field, args);
    const row = source as Row;
    if (Object.prototype.hasOwnProperty.call(row, field)) return row[field];
    const aggregate = field.endsWith('_aggregate');
    const rel = RELATIONSHIPS[parent]?.[aggregate ? field.slice(0, -'_aggregate'.length) : field];
    if (!rel) return undefined;
    const sql = new Sql();
    const a = sql.alias();
    const key = sql.param(row[rel.from]);
    const rows = await this.select(ctx, sql, rel.table, a, `${a}.${rel.to} = ${key} AND ${sql.where(rel.table, a, args.where as Where)}`, args);
    if (aggregate) return { aggregate: { count: rows.length }, nodes: rows };
    return rel.kind === 'object' ? (rows[0] ?? null) : rows;
  };

  /** The role's permission, or undefined when the role has none (its schema then lacks the field). */
  private permission(table: string, op: Operation, role: string): Permission | undefined {
    return this.permissions.get(table)?.get(op)?.get(role);
  }

  /** The role's row filter (or check) for `table`, as SQL on `alias`. */
  private rowCondition(ctx: Context, sql: Sql, table: string, alias: string, op: Operation, which: 'filter' | 'check' = 'filter'): string {
    return sql.where(table, alias, withSession(this.permission(table, op, ctx.role)?.[which] ?? {}, ctx.session));
  }

  /**
   * The first field of the document that the role's schema would not have, as Hasura reports it.
   * The schema file is the superuser's; a role sees the root fields, columns and relationships its
   * permissions grant (on_conflict's update_columns are checked with the values, in mutate()).
   */
  private outsideRoleSchema(document: DocumentNode, role: string): GraphQLError | undefined {
    const typeInfo = new TypeInfo(this.schema);
    let error: GraphQLError | undefined;
    visit(
      document,
      visitWithTypeInfo(typeInfo, {
        Field: (node) => {
          const parent = typeInfo.getParentType()?.name ?? '';
          const name = node.name.value;
          if (name === '__typename') return undefined;
          if (parent === 'query_root' || parent === 'mutation_root') {
            const { table, op, aggregate } = rootFieldTarget(name);
            const p = this.permission(table, op, role);
            if (!p || (aggregate && !p.allow_aggregations)) error = validationError(`field '${name}' not found in type: '${parent}'`, `$.selectionSet.${name}`);
          } else if (TABLES.includes(parent)) {
            const type = getNamedType(typeInfo.getType());
            const select = this.permission(parent, 'select', role);
            if (type && isLeafType(type)) {
              if (!select?.columns.includes(name)) error = validationError(`field '${name}' not found in type: '${parent}'`, `$.selectionSet.${name}`);
            } else if (type) {
              const aggregate = type.name.endsWith('_aggregate');
              const target = this.permission(aggregate ? type.name.slice(0, -'_aggregate'.length) : type.name, 'select', role);
              if (!target || (aggregate && !target.allow_aggregations)) error = validationError(`field '${name}' not found in type: '${parent}'`, `$.selectionSet.${name}`);
            }
          }
          return error ? BREAK : undefined;
        },
      }),
    );
    return error;
  }

  /** Columns an insert object or _set may name: the permission's columns minus its presets (Hasura drops those from the input type). */
  private requireSettable(ctx: Context, table: string, op: 'insert' | 'update', values: Row, path: string): Row {
    const p = this.permission(table, op, ctx.role)!;
    const type = op === 'insert' ? `${table}_insert_input` : `${table}_set_input`;
    for (const column of Object.keys(values)) {
      if (!p.columns.includes(column) || (p.set && column in p.set)) throw validationError(`field '${column}' not found in type: '${type}'`, `${path}.${column}`);
    }
    return { ...values, ...(withSession(p.set ?? {}, ctx.session) as Row) };
  }

  /** Hasura runs a permission's check on the written rows before it commits. */
  private async requireCheck(ctx: Context, table: string, op: 'insert' | 'update', rows: Row[], path: string): Promise<void> {
    for (const row of rows) {
      const sql = new Sql();
      const a = sql.alias();
      const key = sql.param(row.id);
      const { rows: ok } = await this.run(ctx.client, `SELECT EXISTS (SELECT 1 FROM ${table} ${a} WHERE ${a}.id = ${key} AND ${this.rowCondition(ctx, sql, table, a, op, 'check')}) AS ok`, sql.params);
      if (!ok[0]!.ok) throw new GraphQLError('check constraint of an insert/update permission has failed', { extensions: { path, code: 'permission-error' } });
    }
  }

  private async select(ctx: Context, sql: Sql, table: string, alias: string, condition: string, args: Record<string, unknown>): Promise<Row[]> {
    let text = `SELECT ${alias}.* FROM ${table} ${alias} WHERE ${condition} AND ${this.rowCondition(ctx, sql, table, alias, 'select')}${sql.orderBy(alias, args.order_by)}`;
    if (typeof args.limit === 'number') text += ` LIMIT ${sql.param(args.limit)}`;
    if (typeof args.offset === 'number') text += ` OFFSET ${sql.param(args.offset)}`;
    return (await this.run(ctx.client, text, sql.params)).rows;
  }

  private async query(ctx: Context, field: string, args: Record<string, unknown>): Promise<unknown> {
    const sql = new Sql();
    const a = sql.alias();
    if (field.endsWith('_by_pk')) {
      const table = field.slice(0, -'_by_pk'.length);
      return (await this.select(ctx, sql, table, a, `${a}.id = ${sql.param(args.id)}`, {}))[0] ?? null;
    }
    if (field.endsWith('_aggregate')) {
      const rows = await this.select(ctx, sql, field.slice(0, -'_aggregate'.length), a, sql.where(field, a, args.where as Where), args);
      return { aggregate: { count: rows.length }, nodes: rows };
    }
    if (TABLES.includes(field)) return this.select(ctx, sql, field, a, sql.where(field, a, args.where as Where), args);
    throw new Error(`the Hasura stand-in does not implement query field ${field}`);
  }

  private async mutate(ctx: Context, field: string, args: Record<string, unknown>): Promise<unknown> {
    const client = ctx.client;
    const sql = new Sql();
    const path = (arg: string) => `$.selectionSet.${field}.args.${arg}`;
    let match: RegExpExecArray | null;
    if ((match = /^insert_(\w+)_one$/.exec(field))) {
      const table = match[1]!;
      const object = this.requireSettable(ctx, table, 'insert', args.object as Row, path('object'));
      const columns = Object.keys(object);
      let text = `INSERT INTO ${table} (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map((c) => sql.param(object[c])).join(', ')})`;
      const conflict = args.on_conflict as { constraint: string; update_columns: string[] } | undefined;
      if (conflict) {
        // The role's <table>_update_column enum: its UPDATE columns, or only a placeholder.
        const updatable = this.permission(table, 'update', ctx.role)?.columns ?? [];
        const allowed = updatable.length ? updatable : ['_PLACEHOLDER'];
        conflict.update_columns.forEach((column, i) => {
          if (!updatable.includes(column)) {
            throw validationError(
              `expected one of the values [${allowed.map((c) => `'${c}'`).join(', ')}] for type '${table}_update_column', but found '${column}'`,
              `${path('on_conflict')}.update_columns[${i}]`,
            );
          }
        });
        text += conflict.update_columns.length
          ? ` ON CONFLICT ON CONSTRAINT ${conflict.constraint} DO UPDATE SET ${conflict.update_columns.map((c) => `"${c}" = EXCLUDED."${c}"`).join(', ')}`
          : ` ON CONFLICT ON CONSTRAINT ${conflict.constraint} DO NOTHING`;
      }
      const inserted = (await this.run(client, `${text} RETURNING *`, sql.params, path('object'))).rows[0];
      if (!inserted) return null;
      await this.requireCheck(ctx, table, 'insert', [inserted], path('object'));
      // Mutation output is read from the written rows with no row filter (Translate/Returning.hs:
      // TablePerm annBoolExpTrue), so the role gets back a row its select filter would hide.
      return inserted;
    }
    if ((match = /^update_(\w+)_by_pk$/.exec(field))) {
      const table = match[1]!;
      const a = sql.alias();
      const set = this.setClause(sql, this.requireSettable(ctx, table, 'update', args._set as Row, path('_set')));
      const pk = (args.pk_columns as Row).id;
      const rows = (
        await this.run(client, `UPDATE ${table} AS ${a} SET ${set} WHERE ${a}.id = ${sql.param(pk)} AND ${this.rowCondition(ctx, sql, table, a, 'update')} RETURNING ${a}.*`, sql.params, path('_set'))
      ).rows;
      await this.requireCheck(ctx, table, 'update', rows, path('_set'));
      return rows[0] ?? null;
    }
    if ((match = /^update_(\w+)$/.exec(field))) {
      const table = match[1]!;
      const a = sql.alias();
      const set = this.setClause(sql, this.requireSettable(ctx, table, 'update', args._set as Row, path('_set')));
      const rows = (
        await this.run(
          client,
          `UPDATE ${table} AS ${a} SET ${set} WHERE ${sql.where(table, a, args.where as Where)} AND ${this.rowCondition(ctx, sql, table, a, 'update')} RETURNING ${a}.*`,
          sql.params,
          path('_set'),
        )
      ).rows;
      await this.requireCheck(ctx, table, 'update', rows, path('_set'));
      return { affected_rows: rows.length, returning: rows };
    }
    if ((match = /^delete_(\w+)$/.exec(field))) {
      const table = match[1]!;
      const a = sql.alias();
      const rows = (
        await this.run(
          client,
          `DELETE FROM ${table} AS ${a} WHERE ${sql.where(table, a, args.where as Where)} AND ${this.rowCondition(ctx, sql, table, a, 'delete')} RETURNING ${a}.*`,
          sql.params,
          path('where'),
        )
      ).rows;
      return { affected_rows: rows.length, returning: rows };
    }
    throw new Error(`the Hasura stand-in does not implement mutation field ${field}`);
  }

  private setClause(sql: Sql, set: Row): string {
    return Object.entries(set)
      .map(([c, v]) => `"${c}" = ${sql.param(v)}`)
      .join(', ');
  }

  private async run(client: Connection, text: string, params: unknown[], path = '$'): Promise<{ rows: Row[] }> {
    try {
      const result = await client.query({ text, values: params, types: { getTypeParser: (oid, format) => (oid === TIMESTAMPTZ_OID ? hasuraTimestamp : types.getTypeParser(oid, format)) } });
      return { rows: result.rows as Row[] };
    } catch (error) {
      // Duck-typed: the pool may come from another copy of pg (the repo root's), whose DatabaseError class differs.
      if (!isDatabaseError(error)) throw error;
      throw this.hasuraError(error, text, path);
    }
  }

  /** graphql-engine's Postgres error mapping (Hasura.Backends.Postgres.Execute: mkTxErrorHandler). */
  private hasuraError(error: DatabaseError, statement: string, path: string): GraphQLError {
    const state = error.code ?? '';
    const byState: Record<string, [string, string]> = {
      '23514': ['permission-error', 'Check constraint violation. '],
      '23503': ['constraint-violation', 'Foreign key violation. '],
      '23505': ['constraint-violation', 'Uniqueness violation. '],
      '23P01': ['constraint-violation', 'Exclusion violation. '],
      '23502': ['constraint-violation', 'Not-NULL violation. '],
      '23001': ['constraint-violation', 'Can not delete or update due to data being referred. '],
    };
    // Any other integrity violation (class 23, e.g. the chat rules' 23C0x) keeps its message as is;
    // of class 22 only 22025 (invalid escape sequence) is a bad request.
    const [code, message] = byState[state]
      ? [byState[state]![0], byState[state]![1] + error.message]
      : state.startsWith('23')
        ? ['constraint-violation', error.message]
        : state === '22025'
          ? ['bad-request', error.message]
          : state.startsWith('22')
            ? ['data-exception', error.message]
            : ['unexpected', 'database query error'];
    // err400 sets no qeInternal: only the unexpected error has internal details to show.
    if (code !== 'unexpected' || !this.internalErrors) return new GraphQLError(message, { extensions: { path, code } });
    const internal = {
      statement,
      prepared: true,
      error: { exec_status: 'FatalError', hint: error.hint ?? null, message: error.message, status_code: state, description: error.detail ?? null },
      arguments: [],
    };
    return new GraphQLError(message, { extensions: { path, code, internal } });
  }
}
