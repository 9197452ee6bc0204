import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

/**
 * A stand-in for Hasura GraphQL Engine's /healthz and /v1/metadata on 127.0.0.1,
 * answering as the metadata API reference documents
 * (hasura.io/docs/latest/api-reference/metadata-api/manage-metadata/): it keeps the
 * metadata and its resource_version, answers 409 `conflict` to a stale
 * resource_version, and 400 `unexpected` with the inconsistent objects in `internal`
 * when told the metadata is inconsistent, or when the metadata defines a table permission
 * for the reserved role `admin` (graphql-engine's buildPermission: "cannot define
 * permission for admin role", recorded as an inconsistency of that permission).
 */

const PERMISSION_KINDS = ['select', 'insert', 'update', 'delete'] as const;

/** The inconsistent objects Hasura records for permissions defined for its reserved `admin` role. */
export function adminRoleInconsistencies(metadata: Record<string, unknown>): unknown[] {
  const sources = (metadata.sources ?? []) as Array<{ name: string; tables?: Array<Record<string, unknown> & { table: { schema: string; name: string } }> }>;
  return sources.flatMap((source) =>
    (source.tables ?? []).flatMap((t) =>
      PERMISSION_KINDS.flatMap((kind) =>
        ((t[`${kind}_permissions`] ?? []) as Array<{ role: string }>)
          .filter((p) => p.role === 'admin')
          .map((p) => ({
            definition: { ...p, source: source.name, table: t.table },
            name: `${kind}_permission admin in table ${t.table.name} in source ${source.name}`,
            reason: `Inconsistent object: in table "${t.table.name}": in permission for role "admin": cannot define permission for admin role`,
            type: `${kind}_permission`,
          })),
      ),
    ),
  );
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

  constructor(private readonly adminSecret: string) {}

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
        const inconsistent = [...this.inconsistencies, ...adminRoleInconsistencies(args.metadata)];
        if (inconsistent.length > 0 && !args.allow_inconsistent_metadata) {
          return send(400, { path: '$.args', error: 'cannot continue due to inconsistent metadata', code: 'unexpected', internal: inconsistent });
        }
        this.metadata = args.metadata;
        this.resourceVersion++;
        return send(200, { is_consistent: this.inconsistencies.length === 0, inconsistent_objects: this.inconsistencies });
      }
      case 'reload_metadata':
        return send(200, this.inconsistencies.length ? { is_consistent: false, message: 'success', inconsistent_objects: this.inconsistencies } : { is_consistent: true, message: 'success' });
      case 'get_inconsistent_metadata':
        return send(200, { is_consistent: this.inconsistencies.length === 0, inconsistent_objects: this.inconsistencies });
      default:
        return send(400, { path: '$.type', error: `unknown metadata command "${body.type}"`, code: 'bad-request' });
    }
  }
}
