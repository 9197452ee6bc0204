import type { Logger } from '@aws-lambda-powertools/logger';
import { MatrixHttpError, SynapseAdminClient } from './synapse-admin-client';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Where the rooms to purge come from. */
export type RoomSelection =
  /** The app's rooms, by alias (e.g. #internal:server). A missing alias is reported, not fatal. */
  | { readonly kind: 'aliases'; readonly aliases: readonly string[] }
  /** Every room on the homeserver, from the admin room list. */
  | { readonly kind: 'all' };

/** The logger the purge writes its structured records to. */
export type PurgeLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

export interface PurgeHistoryOptions {
  readonly client: SynapseAdminClient;
  readonly rooms: RoomSelection;
  /** Events older than this many days are purged (seed 003: 90). */
  readonly retentionDays: number;
  readonly logger: PurgeLogger;
  /** @default Date.now() */
  readonly now?: number;
  /**
   * Seed 003 keeps local users' events (they may be the only copy); only remote
   * events and the state history that goes with them are deleted.
   * @default false
   */
  readonly deleteLocalEvents?: boolean;
  /** @default 2000 */
  readonly pollIntervalMs?: number;
  /**
   * How long to keep polling a purge before moving on (it carries on inside Synapse).
   * The entry point derives it from the Lambda's remaining time.
   * @default 60000
   */
  readonly maxWaitMs?: number;
}

/**
 * What happened to one room.
 * - `purged`: the purge ran to completion.
 * - `nothing-to-purge`: no event older than the cut-off (Synapse answers 404 M_NOT_FOUND); a re-run lands here.
 * - `already-running`: a purge of this room was already in progress; tomorrow's run continues.
 * - `still-running`: started, not finished within maxWaitMs; it completes in Synapse on its own.
 * - `failed`: the start or the purge itself failed.
 * - `alias-not-found`: the alias does not exist on the homeserver.
 */
export type RoomOutcome = 'purged' | 'nothing-to-purge' | 'already-running' | 'still-running' | 'failed' | 'alias-not-found';

export interface RoomResult {
  readonly room: string;
  readonly roomId?: string;
  readonly outcome: RoomOutcome;
  readonly purgeId?: string;
  readonly error?: string;
}

export interface PurgeHistoryResult {
  readonly purgeUpToTs: number;
  readonly purgeUpTo: string;
  readonly rooms: RoomResult[];
}

/** The cut-off: `now` minus the retention, in ms since the epoch. */
export function purgeUpToTimestamp(now: number, retentionDays: number): number {
  if (!Number.isInteger(retentionDays) || retentionDays < 1) throw new Error(`retentionDays must be a positive integer, got ${retentionDays}`);
  return now - retentionDays * DAY_MS;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Purges the history of each selected room up to `now - retentionDays`, as seed
 * 003's maintenance step does by hand. Rooms are handled one at a time (a purge
 * is heavy on the database) and independently: one room's failure is logged and
 * the others still run. Safe to re-run: a second run finds nothing older than
 * the cut-off, or purges only what aged past it since.
 */
export async function purgeHistory(options: PurgeHistoryOptions): Promise<PurgeHistoryResult> {
  const { client, logger } = options;
  const now = options.now ?? Date.now();
  const purgeUpToTs = purgeUpToTimestamp(now, options.retentionDays);
  const pollIntervalMs = options.pollIntervalMs ?? 2000;
  const maxWaitMs = options.maxWaitMs ?? 60_000;
  const deleteLocalEvents = options.deleteLocalEvents ?? false;
  const purgeUpTo = new Date(purgeUpToTs).toISOString();

  const targets: { room: string; roomId?: string }[] = [];
  if (options.rooms.kind === 'aliases') {
    for (const alias of options.rooms.aliases) targets.push({ room: alias, roomId: await client.resolveRoomAlias(alias) });
  } else {
    for (const roomId of await client.listRoomIds()) targets.push({ room: roomId, roomId });
  }
  logger.info('history purge starting', { purgeUpTo, purgeUpToTs, retentionDays: options.retentionDays, rooms: targets.length, deleteLocalEvents });

  const results: RoomResult[] = [];
  for (const { room, roomId } of targets) {
    if (!roomId) {
      logger.warn('room alias not found; skipping', { room });
      results.push({ room, outcome: 'alias-not-found' });
      continue;
    }
    const result = await purgeRoom(client, room, roomId, purgeUpToTs, deleteLocalEvents, pollIntervalMs, maxWaitMs);
    const log = result.outcome === 'failed' ? logger.error : result.outcome === 'still-running' ? logger.warn : logger.info;
    log.call(logger, 'room history purge', { ...result, purgeUpTo });
    results.push(result);
  }

  const counts = Object.fromEntries(results.reduce((m, r) => m.set(r.outcome, (m.get(r.outcome) ?? 0) + 1), new Map<string, number>()));
  logger.info('history purge finished', { purgeUpTo, ...counts });
  return { purgeUpToTs, purgeUpTo, rooms: results };
}

async function purgeRoom(client: SynapseAdminClient, room: string, roomId: string, purgeUpToTs: number, deleteLocalEvents: boolean, pollIntervalMs: number, maxWaitMs: number): Promise<RoomResult> {
  let purgeId: string;
  try {
    purgeId = await client.startPurgeHistory(roomId, purgeUpToTs, deleteLocalEvents);
  } catch (err) {
    // Synapse: 404 M_NOT_FOUND "there is no event to be purged" when nothing is older than the cut-off.
    if (err instanceof MatrixHttpError && err.status === 404 && err.errcode === 'M_NOT_FOUND') return { room, roomId, outcome: 'nothing-to-purge' };
    // Synapse: 400 "History purge already in progress for <room>".
    if (err instanceof MatrixHttpError && err.status === 400 && /already in progress/i.test(err.serverMessage ?? '')) {
      return { room, roomId, outcome: 'already-running' };
    }
    return { room, roomId, outcome: 'failed', error: err instanceof Error ? err.message : String(err) };
  }

  const deadline = Date.now() + maxWaitMs;
  for (;;) {
    let status;
    try {
      status = await client.purgeStatus(purgeId);
    } catch (err) {
      return { room, roomId, purgeId, outcome: 'failed', error: `status check failed: ${err instanceof Error ? err.message : String(err)}` };
    }
    if (status.status === 'complete') return { room, roomId, purgeId, outcome: 'purged' };
    if (status.status === 'failed') return { room, roomId, purgeId, outcome: 'failed', error: status.error ?? 'Synapse reported the purge as failed' };
    if (Date.now() + pollIntervalMs > deadline) return { room, roomId, purgeId, outcome: 'still-running' };
    await sleep(pollIntervalMs);
  }
}
