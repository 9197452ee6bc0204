import { HasuraApiError, HasuraClient, InconsistentObject, formatInconsistencies } from '../../chat-clients/hasura-client';
import { HttpError } from '../../chat-clients/http';
import { HasuraMetadata, HasuraSource, HasuraTable, MetadataOwnership, replaceMetadataRequest } from '../../chat-domain/hasura-metadata-directory';

export type { MetadataOwnership };

export interface ApplyOptions {
  readonly client: HasuraClient;
  readonly metadata: HasuraMetadata;
  readonly ownership: MetadataOwnership;
  /** Epoch ms by which the apply must be done (the Lambda's remaining time, less a margin). */
  readonly deadline: number;
  /** Pause between /healthz polls while the engine starts. @default 5000 */
  readonly healthPollMs?: number;
  /** How often a `shared` apply re-reads and retries after a 409 conflict. @default 3 */
  readonly conflictRetries?: number;
  readonly log?: (message: string, details?: Record<string, unknown>) => void;
}

export interface ApplyResult {
  /** The tables of our metadata now tracked, as schema.name. */
  readonly tables: readonly string[];
  /** Hasura's resource_version after the apply. */
  readonly resourceVersion: number;
}

/** The deploy fails with this when Hasura reports inconsistent objects; the message lists them. */
export class InconsistentMetadataError extends Error {
  constructor(
    readonly step: string,
    readonly objects: readonly InconsistentObject[],
  ) {
    super(`${step}: Hasura reports ${objects.length} inconsistent metadata object(s):\n${formatInconsistencies(objects)}`);
    this.name = 'InconsistentMetadataError';
  }
}

interface ConsistencyAnswer {
  readonly is_consistent?: boolean;
  readonly inconsistent_objects?: readonly InconsistentObject[];
}

/**
 * Applies the metadata: waits for /healthz, replace_metadata (exact, or merged for a
 * shared engine), reload_metadata, then get_inconsistent_metadata. Running it again
 * with the same metadata changes nothing, so it is safe on every deploy.
 */
export async function applyMetadata(options: ApplyOptions): Promise<ApplyResult> {
  const { client, metadata, log = () => undefined } = options;
  // A shared engine may sit behind a proxy that does not route /healthz (404): any
  // answer shows it is up, and the metadata calls report anything else.
  const upStatuses = options.ownership === 'shared' ? [200, 404] : [200];
  await waitUntilHealthy(client, upStatuses, options.deadline, options.healthPollMs ?? 5_000, log);

  if (options.ownership === 'exclusive') await replaceExclusive(client, metadata, log);
  else await replaceShared(client, metadata, options.conflictRetries ?? 3, log);

  const reload = await client.metadata<ConsistencyAnswer>({
    type: 'reload_metadata',
    args: { reload_remote_schemas: true, reload_sources: true, recreate_event_triggers: true },
  });
  if (reload?.is_consistent === false) throw new InconsistentMetadataError('reload_metadata', reload.inconsistent_objects ?? []);

  const check = await client.metadata<ConsistencyAnswer>({ type: 'get_inconsistent_metadata', args: {} });
  if (check?.is_consistent === false) throw new InconsistentMetadataError('get_inconsistent_metadata', check.inconsistent_objects ?? []);

  // replace_metadata answers only {is_consistent, inconsistent_objects} (runReplaceMetadataV2):
  // the version the apply left is the one export_metadata v2 reports now.
  const { resource_version: resourceVersion } = await client.metadata<{ resource_version: number }>({ type: 'export_metadata', version: 2, args: {} });
  const tables = metadata.sources.flatMap((s) => s.tables.map((t) => `${t.table.schema}.${t.table.name}`));
  log('hasura metadata applied', { tables, resourceVersion });
  return { tables, resourceVersion };
}

async function waitUntilHealthy(client: HasuraClient, upStatuses: readonly number[], deadline: number, pollMs: number, log: NonNullable<ApplyOptions['log']>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const status = await client.healthStatus();
    if (status !== undefined && upStatuses.includes(status)) return;
    if (Date.now() + pollMs >= deadline) {
      throw new HttpError(
        status === undefined ? 'unreachable' : 'status',
        `Hasura did not answer 200 on /healthz after ${attempt} tries (last: ${status ?? 'no answer'}); check the engine's ECS service events and logs (database URL, admin secret, JWT config)`,
        { status },
      );
    }
    log('waiting for Hasura /healthz', { attempt, status });
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

async function replaceExclusive(client: HasuraClient, metadata: HasuraMetadata, log: NonNullable<ApplyOptions['log']>): Promise<void> {
  await replace(client, metadata);
  log('replace_metadata done (exclusive)');
}

async function replaceShared(client: HasuraClient, ours: HasuraMetadata, retries: number, log: NonNullable<ApplyOptions['log']>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const current = await client.metadata<{ resource_version: number; metadata: HasuraMetadata }>({ type: 'export_metadata', version: 2, args: {} });
    const merged = mergeIntoShared(current.metadata, ours);
    try {
      // resource_version makes the write conditional: a concurrent change answers 409
      // instead of being overwritten with a merge computed from stale metadata.
      await replace(client, merged, current.resource_version);
      log('replace_metadata done (shared)', { basedOn: current.resource_version });
      return;
    } catch (err) {
      if (err instanceof HasuraApiError && err.status === 409 && attempt < retries) {
        log('metadata changed concurrently; merging again', { attempt });
        continue;
      }
      throw err;
    }
  }
}

async function replace(client: HasuraClient, metadata: HasuraMetadata, resourceVersion?: number): Promise<void> {
  try {
    const answer = await client.metadata<ConsistencyAnswer>(replaceMetadataRequest(metadata, resourceVersion));
    // With allow_inconsistent_metadata=false Hasura answers 400; a 200 that still says
    // inconsistent (an engine that ignores the flag) must not pass either.
    if (answer?.is_consistent === false) throw new InconsistentMetadataError('replace_metadata', answer.inconsistent_objects ?? []);
  } catch (err) {
    if (err instanceof HasuraApiError && err.status === 400 && Array.isArray(err.internal) && err.internal.length > 0) {
      throw new InconsistentMetadataError('replace_metadata', err.internal as InconsistentObject[]);
    }
    throw err;
  }
}

/** Tables the chat adds to a shared engine only when that engine does not track them already. */
const ADOPT_IF_ABSENT = new Set(['public.users']);

/**
 * Our metadata merged into a shared engine's: each of our sources replaces the tables
 * it names in the same-named source (keeping that source's connection settings and its
 * other tables, functions and customisation); a source the engine lacks is added whole.
 * `users` belongs to the Phenom backend where it already exists, so its definition
 * there is kept. Everything outside the sources (actions, remote schemas...) is untouched.
 */
export function mergeIntoShared(current: HasuraMetadata, ours: HasuraMetadata): HasuraMetadata {
  const sources = [...(current.sources ?? [])];
  for (const source of ours.sources) {
    const i = sources.findIndex((s) => s.name === source.name);
    if (i === -1) {
      sources.push(source);
      continue;
    }
    const existing = sources[i];
    const key = (t: HasuraTable) => `${t.table.schema}.${t.table.name}`;
    const existingTables = new Map(existing.tables.map((t) => [key(t), t]));
    const replaced = new Set(source.tables.filter((t) => !(ADOPT_IF_ABSENT.has(key(t)) && existingTables.has(key(t)))).map(key));
    const tables = [...existing.tables.filter((t) => !replaced.has(key(t))), ...source.tables.filter((t) => replaced.has(key(t)))];
    sources[i] = { ...existing, tables } as HasuraSource;
  }
  return { ...current, sources };
}
