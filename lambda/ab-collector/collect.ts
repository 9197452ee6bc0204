import type { CloudWatchClient, MetricDatum } from '@aws-sdk/client-cloudwatch';
import type { AbBackend } from '../../chat-domain/ab-metrics';
import { publish, usageData } from './publish';
import { CollectorWindow, hasuraLiteUsage, Queryable, synapseUsage, UsageSnapshot, windowBefore } from './usage';

export interface CollectorDeps {
  readonly cloudWatch: CloudWatchClient;
  /** The `Environment` dimension: the stack prefix. */
  readonly environment: string;
  readonly matrixServerName: string;
  /** The chat database (Hasura Lite), as the collector's read-only role. undefined: not deployed. */
  readonly chatDb?: () => Promise<Queryable>;
  /** Synapse's database, as the collector's read-only role. undefined: not deployed. */
  readonly synapseDb?: () => Promise<Queryable>;
  readonly now?: () => Date;
}

export interface CollectorReport {
  readonly window: CollectorWindow;
  readonly usage: Partial<Record<AbBackend, UsageSnapshot>>;
  readonly failures: { readonly backend: AbBackend; readonly error: string }[];
}

/**
 * One run: both backends are read for the same window, each on its own, so one database being down
 * does not hide the other's figures; whatever was read is published in one go; a backend that failed
 * is reported, and the caller fails the run so the alarm on the function's errors sees it.
 */
export async function collect(deps: CollectorDeps): Promise<CollectorReport> {
  const window = windowBefore(deps.now?.() ?? new Date());
  const sources: [AbBackend, (() => Promise<Queryable>) | undefined, (db: Queryable) => Promise<UsageSnapshot>][] = [
    ['matrix', deps.synapseDb, (db) => synapseUsage(db, window, deps.matrixServerName)],
    ['hasura-lite', deps.chatDb, (db) => hasuraLiteUsage(db, window)],
  ];
  const usage: CollectorReport['usage'] = {};
  const failures: CollectorReport['failures'] = [];
  const data: MetricDatum[] = [];
  for (const [backend, connect, read] of sources) {
    if (!connect) continue;
    try {
      const snapshot = await read(await connect());
      usage[backend] = snapshot;
      data.push(...usageData(deps.environment, backend, window, snapshot));
    } catch (err) {
      failures.push({ backend, error: err instanceof Error ? err.message : String(err) });
    }
  }
  if (data.length > 0) await publish(deps.cloudWatch, data);
  return { window, usage, failures };
}
