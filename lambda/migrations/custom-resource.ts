import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import type { ClientBase } from 'pg';
import { MigrationResult, runMigrations } from './runner';

/** The physical id of the one migrations resource per stack (stable, so Updates are updates). */
export const MIGRATIONS_PHYSICAL_ID = 'phenom-chat-schema-migrations';

/** What the provider framework expects back from onEvent. */
export interface MigrationsResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: {
    /** Comma-separated files applied by this deploy ('' when none). */
    readonly Applied: string;
    readonly AppliedCount: number;
    /** The newest migration now in the database (on a rollback, one this code does not have). */
    readonly LatestMigration: string;
    /** Comma-separated migrations the database has that are newer than this code ('' unless rolling back). */
    readonly NewerThanBundle: string;
  };
}

export interface MigrationsEventDeps {
  /** Runs `work` on a database connection and gives the connection back. */
  withClient<T>(work: (client: ClientBase) => Promise<T>): Promise<T>;
  readonly sqlDir?: string;
  /** Epoch ms by which the run must stop (see RunMigrationsOptions.deadline). @default - no limit */
  readonly deadline?: number;
  readonly log?: (message: string, details: Record<string, unknown>) => void;
  /** For what an operator should notice (a database ahead of the code). @default - `log` */
  readonly warn?: (message: string, details: Record<string, unknown>) => void;
}

/**
 * Create and Update apply the pending migrations (the resource's properties carry the
 * sql/ content hash, so a deploy that changes sql/ sends an Update). Delete does
 * nothing: removing the stack or the resource must never drop chat data.
 * A failure throws; the provider framework reports the message (file + Postgres
 * error) to CloudFormation, which rolls the deploy back. That rollback sends an Update
 * with the previous release's code, which finds the new migrations in the database and
 * succeeds without touching the schema (forward-only; see runner.ts).
 */
export async function handleMigrationsEvent(event: CloudFormationCustomResourceEvent, deps: MigrationsEventDeps): Promise<MigrationsResponse> {
  const log = deps.log ?? (() => undefined);
  const warn = deps.warn ?? log;
  switch (event.RequestType) {
    case 'Create':
    case 'Update': {
      const result: MigrationResult = await deps.withClient((client) => runMigrations(client, { sqlDir: deps.sqlDir, deadline: deps.deadline }));
      log('migrations finished', { requestType: event.RequestType, ...result });
      if (result.newerThanDirectory.length > 0) {
        warn('database is ahead of this code: kept the newer migrations and changed nothing', {
          requestType: event.RequestType,
          newerThanBundle: result.newerThanDirectory,
          bundleLatest: [...result.alreadyApplied, ...result.applied].sort().at(-1) ?? '',
        });
      }
      const all = [...result.alreadyApplied, ...result.applied, ...result.newerThanDirectory].sort();
      return {
        PhysicalResourceId: event.RequestType === 'Update' ? event.PhysicalResourceId : MIGRATIONS_PHYSICAL_ID,
        Data: {
          Applied: result.applied.join(','),
          AppliedCount: result.applied.length,
          LatestMigration: all.at(-1) ?? '',
          NewerThanBundle: result.newerThanDirectory.join(','),
        },
      };
    }
    case 'Delete':
      log('delete requested: the chat schema and its data are kept', { physicalResourceId: event.PhysicalResourceId });
      return { PhysicalResourceId: event.PhysicalResourceId };
    default:
      throw new Error(`unsupported RequestType ${JSON.stringify((event as { RequestType?: unknown }).RequestType)}; expected Create, Update or Delete`);
  }
}
