import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { columnsInBoolExp, Operation, OPERATIONS, permissions, relationships, relationshipTargets, RoleRule, Table } from '../../hasura-metadata/metadata-model';
import type { PublicSchemaCatalog } from '../../support/postgres/catalog';

/**
 * A stand-in for Hasura GraphQL Engine's /healthz and /v1/metadata on 127.0.0.1,
 * answering as the metadata API reference documents
 * (hasura.io/docs/latest/api-reference/metadata-api/manage-metadata/): it keeps the
 * metadata and its resource_version (reported by export_metadata v2 only: replace_metadata
 * answers {is_consistent, inconsistent_objects}, as runReplaceMetadataV2 does), answers 409 `conflict` to a stale
 * resource_version, and 400 `unexpected` with the inconsistent objects in `internal`
 * when told the metadata is inconsistent, or when the metadata defines a table permission
 * for the reserved role `admin` (graphql-engine's buildPermission: "cannot define
 * permission for admin role", recorded as an inconsistency of that permission). Given a
 * source database, it also checks the metadata against that database's schema as the
 * engine does when it builds its schema cache (`schemaInconsistencies`).
 */

type StandInTable = Table & { readonly [kind: string]: unknown };
type StandInSource = { name: string; tables?: StandInTable[] };

/** The inconsistent object Hasura records for one table permission, with its reason. */
function permissionInconsistency(kind: Operation, permission: RoleRule, source: string, table: Table['table'], reason: string): unknown {
  return {
    definition: { ...permission, source, table },
    name: `${kind}_permission ${permission.role} in table ${table.name} in source ${source}`,
    reason: `Inconsistent object: in table "${table.name}": in permission for role "${permission.role}": ${reason}`,
    type: `${kind}_permission`,
  };
}

/** The inconsistent objects Hasura records for permissions defined for its reserved `admin` role. */
export function adminRoleInconsistencies(metadata: Record<string, unknown>): unknown[] {
  const sources = (metadata.sources ?? []) as StandInSource[];
  return sources.flatMap((source) =>
    (source.tables ?? []).flatMap((t) =>
      OPERATIONS.flatMap((kind) =>
        permissions(t, kind)
          .filter((p) => p.role === 'admin')
          .map((p) => permissionInconsistency(kind, p, source.name, t.table, 'cannot define permission for admin role')),
      ),
    ),
  );
}

/**
 * The inconsistent objects graphql-engine records when it builds its schema cache for
 * `metadata` over a Postgres database whose public schema is `catalog`, for what the chat
 * metadata uses (every source is taken to be that database):
 * - a tracked table the database lacks: `no such table/view exists in source` (Hasura.Table.API);
 * - a foreign-key relationship with no such foreign key: `no foreign constraint exists on the
 *   given column(s)` (Hasura.RQL.DDL.Relationship);
 * - a permission whose column list or presets name a missing column: `column "x" does not exist`
 *   (assertColumnExists / askColumnType in Hasura.Table.Cache), or whose filter or check does:
 *   `"x" does not exist` (annColExp in Hasura.RQL.DDL.Permission.Internal).
 * A column the database has and the metadata leaves out is simply not exposed: the engine builds
 * its fields from the metadata's column lists (interpColSpec), so that is no inconsistency. This
 * is what lets the previous release's metadata run over a newer schema.
 */
export function schemaInconsistencies(metadata: Record<string, unknown>, catalog: PublicSchemaCatalog): unknown[] {
  const has = (table: string, column: string) => catalog.columns.get(table)?.has(column) ?? false;
  return ((metadata.sources ?? []) as StandInSource[]).flatMap((source) => {
    const present = (source.tables ?? []).filter((t) => catalog.columns.has(t.table.name));
    const missingTables = (source.tables ?? [])
      .filter((t) => !catalog.columns.has(t.table.name))
      .map((t) => ({
        definition: t.table,
        name: `table ${t.table.name} in source ${source.name}`,
        reason: `Inconsistent object: no such table/view exists in source: "${t.table.name}"`,
        type: 'table',
      }));
    const tracked = new Map(present.map((t) => [t.table.name, t as Table]));
    const remoteTableOf = relationshipTargets(tracked, catalog.foreignKeys);
    const brokenRelationships = present.flatMap((t) =>
      [...relationships(t)].flatMap(([name, rel]) => {
        if (rel.via !== 'foreign_key') return [];
        const backed =
          rel.kind === 'object'
            ? catalog.foreignKeys.some((fk) => fk.table === t.table.name && fk.column === rel.localColumn)
            : catalog.foreignKeys.some((fk) => fk.table === rel.remoteTable && fk.column === rel.remoteColumn && fk.refTable === t.table.name);
        if (backed) return [];
        return [
          {
            definition: { name, source: source.name, table: t.table },
            name: `${rel.kind}_relation ${name} in table ${t.table.name} in source ${source.name}`,
            reason: `Inconsistent object: in table "${t.table.name}": in relationship "${name}": no foreign constraint exists on the given column(s)`,
            type: `${rel.kind}_relation`,
          },
        ];
      }),
    );
    const brokenPermissions = present.flatMap((t) =>
      OPERATIONS.flatMap((kind) =>
        permissions(t, kind).flatMap((rule) => {
          const { columns, set, filter, check } = rule.permission;
          const missingColumn = [...(Array.isArray(columns) ? columns : []), ...Object.keys(set ?? {})].find((c) => !has(t.table.name, c));
          if (missingColumn) return [permissionInconsistency(kind, rule, source.name, t.table, `column "${missingColumn}" does not exist`)];
          const missingField = [filter, check]
            .flatMap((exp) => columnsInBoolExp(exp, t.table.name, remoteTableOf))
            .find((ref) => !ref.column.startsWith('(relationship)') && !has(ref.table, ref.column));
          return missingField ? [permissionInconsistency(kind, rule, source.name, t.table, `"${missingField.column}" does not exist`)] : [];
        }),
      ),
    );
    return [...missingTables, ...brokenRelationships, ...brokenPermissions];
  });
}

export interface RecordedCall {
  readonly path: string;
  readonly adminSecret?: string;
  readonly body?: { type: string; version?: number; resource_version?: number; args?: Record<string, unknown> };
}

export interface StandInAnswer {
  readonly status: number;
  readonly body: unknown;
}

export class HasuraStandIn {
  readonly calls: RecordedCall[] = [];
  metadata: Record<string, unknown> = { version: 3, sources: [] };
  resourceVersion = 1;
  /** How many /healthz polls answer 503 before the engine is "up". */
  unhealthyPolls = 0;
  /** What /healthz answers once the engine is "up" (a proxy in front of a shared engine may answer 404). */
  healthzStatus = 200;
  /** Inconsistent objects the engine finds in whatever metadata it holds. */
  inconsistencies: unknown[] = [];
  /** One-off answers by operation type, used before the default behaviour. */
  readonly overrides = new Map<string, StandInAnswer[]>();
  private server?: Server;

  /**
   * @param source - the database the engine's source points at; its schema is read on every
   *   replace, reload and consistency check, as the engine introspects it then.
   */
  constructor(
    private readonly adminSecret: string,
    private readonly source?: { catalog(): Promise<PublicSchemaCatalog> },
  ) {}

  /** Everything the engine would find inconsistent in `metadata` right now. */
  private async inconsistenciesOf(metadata: Record<string, unknown>): Promise<unknown[]> {
    const fromSchema = this.source ? schemaInconsistencies(metadata, await this.source.catalog()) : [];
    return [...this.inconsistencies, ...adminRoleInconsistencies(metadata), ...fromSchema];
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** The metadata calls' operation types, in order. */
  get operations(): string[] {
    return this.calls.filter((c) => c.path === '/v1/metadata').map((c) => c.body!.type);
  }

  answerOnce(type: string, answer: StandInAnswer): void {
    this.overrides.set(type, [...(this.overrides.get(type) ?? []), answer]);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };

    if (req.url === '/healthz' && req.method === 'GET') {
      this.calls.push({ path: '/healthz' });
      if (this.unhealthyPolls > 0) {
        this.unhealthyPolls--;
        return send(503, 'ERROR');
      }
      if (this.healthzStatus !== 200) return send(this.healthzStatus, 'Not Found');
      return send(200, this.inconsistencies.length ? 'WARN: inconsistent objects in schema' : 'OK');
    }
    if (req.url !== '/v1/metadata' || req.method !== 'POST') return send(404, { path: '$', error: 'resource does not exist', code: 'not-found' });

    const body = JSON.parse(raw) as RecordedCall['body'] & {};
    const secret = req.headers['x-hasura-admin-secret'] as string | undefined;
    this.calls.push({ path: '/v1/metadata', adminSecret: secret, body });
    if (secret !== this.adminSecret) return send(401, { path: '$', error: 'invalid x-hasura-admin-secret/x-hasura-access-key', code: 'access-denied' });

    const override = this.overrides.get(body.type)?.shift();
    if (override) return send(override.status, override.body);

    switch (body.type) {
      case 'export_metadata':
        return send(200, body.version === 2 ? { resource_version: this.resourceVersion, metadata: this.metadata } : this.metadata);
      case 'replace_metadata': {
        if (body.resource_version !== undefined && body.resource_version !== this.resourceVersion) {
          return send(409, { path: '$', error: `metadata resource version referenced (${body.resource_version}) did not match current version`, code: 'conflict' });
        }
        const args = body.args as { allow_inconsistent_metadata?: boolean; metadata: Record<string, unknown> };
        const inconsistent = await this.inconsistenciesOf(args.metadata);
        if (inconsistent.length > 0 && !args.allow_inconsistent_metadata) {
          return send(400, { path: '$.args', error: 'cannot continue due to inconsistent metadata', code: 'unexpected', internal: inconsistent });
        }
        this.metadata = args.metadata;
        this.resourceVersion++;
        return send(200, { is_consistent: inconsistent.length === 0, inconsistent_objects: inconsistent });
      }
      case 'reload_metadata': {
        const inconsistent = await this.inconsistenciesOf(this.metadata);
        return send(200, inconsistent.length ? { is_consistent: false, message: 'success', inconsistent_objects: inconsistent } : { is_consistent: true, message: 'success' });
      }
      case 'get_inconsistent_metadata': {
        const inconsistent = await this.inconsistenciesOf(this.metadata);
        return send(200, { is_consistent: inconsistent.length === 0, inconsistent_objects: inconsistent });
      }
      default:
        return send(400, { path: '$.type', error: `unknown metadata command "${body.type}"`, code: 'bad-request' });
    }
  }
}
