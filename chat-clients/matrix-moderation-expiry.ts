import { MatrixClient } from './matrix-client';
import { BAN_STATE, BanRecord, MatrixEvent, MUTE_STATE, MuteRecord, recordKey, RoomState } from './matrix-room-state';

/**
 * Lifting mutes and bans, shared by the MCP server's unmute/unban tools and the one scheduled job
 * that ends timed ones (the membership reconciler's `lift-expired-moderation` run, every minute).
 * Errors are the Matrix client's own; callers put them in their own terms.
 */

export async function readRoomState(client: MatrixClient, roomId: string): Promise<RoomState> {
  return new RoomState(await client.request<MatrixEvent[]>('GET', ['rooms', roomId, 'state']));
}

/** Sets one user's power level; the users_default level is written as "no entry". */
export async function putPowerLevel(client: MatrixClient, roomId: string, state: RoomState, userId: string, level: number): Promise<void> {
  const pl = state.powerLevels;
  const users = { ...(pl.users ?? {}) };
  if (level === (pl.users_default ?? 0)) delete users[userId];
  else users[userId] = level;
  await client.request('PUT', ['rooms', roomId, 'state', 'm.room.power_levels', ''], { body: { ...pl, users } });
}

const clearRecord = (client: MatrixClient, roomId: string, type: string, userId: string) => client.request('PUT', ['rooms', roomId, 'state', type, recordKey(userId)], { body: {} });

/** Restores the level from before the mute (never below the send level), then clears the record. */
export async function liftMute(client: MatrixClient, roomId: string, state: RoomState, userId: string): Promise<void> {
  const record = state.record<MuteRecord>(MUTE_STATE, userId);
  const sendLevel = state.sendLevel;
  if (state.levelOf(userId) < sendLevel) await putPowerLevel(client, roomId, state, userId, Math.max(record?.previous_power_level ?? sendLevel, sendLevel));
  if (record) await clearRecord(client, roomId, MUTE_STATE, userId);
}

/** Unbans (the member is then "leave": they may join again when invited), then clears the record. */
export async function liftBan(client: MatrixClient, roomId: string, state: RoomState, userId: string): Promise<void> {
  await client.request('POST', ['rooms', roomId, 'unban'], { body: { user_id: userId } });
  if (state.record(BAN_STATE, userId)) await clearRecord(client, roomId, BAN_STATE, userId);
}

export interface ExpiryAction {
  readonly roomId: string;
  readonly userId: string;
  readonly kind: 'mute' | 'ban';
}

export interface ExpiryReport {
  /** Mutes and bans whose time was up and that this run ended. */
  readonly lifted: ExpiryAction[];
  /** Records whose time was up but whose mute or ban someone had already changed: only the record was cleared. */
  readonly cleared: ExpiryAction[];
  readonly failures: { readonly what: string; readonly error: string }[];
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Ends every recorded mute and ban in `roomIds` whose time is up at `now`. Idempotent: the room's
 * state is read first, a lifted mute or ban leaves no record, and a mute whose level someone has
 * changed since, or a ban that is not the recorded one, is left as it is (only its record goes).
 * One failure is reported and the rest still runs.
 */
export async function liftExpired(client: MatrixClient, roomIds: readonly string[], now: number): Promise<ExpiryReport> {
  const report: ExpiryReport = { lifted: [], cleared: [], failures: [] };
  const due = (at: string | null | undefined) => Boolean(at) && Date.parse(at!) <= now;
  for (const roomId of roomIds) {
    let state: RoomState;
    try {
      state = await readRoomState(client, roomId);
    } catch (err) {
      report.failures.push({ what: `read the state of ${roomId}`, error: errorText(err) });
      continue;
    }
    const each = async (kind: ExpiryAction['kind'], userId: string, stillInForce: boolean, lift: () => Promise<void>) => {
      try {
        if (stillInForce) await lift();
        else await clearRecord(client, roomId, kind === 'mute' ? MUTE_STATE : BAN_STATE, userId);
        (stillInForce ? report.lifted : report.cleared).push({ roomId, userId, kind });
      } catch (err) {
        report.failures.push({ what: `end the ${kind} of ${userId} in ${roomId}`, error: errorText(err) });
      }
    };
    for (const userId of state.usersWithRecord(MUTE_STATE)) {
      const record = state.record<MuteRecord>(MUTE_STATE, userId);
      if (!due(record?.muted_until)) continue;
      await each('mute', userId, state.levelOf(userId) === record!.muted_power_level, () => liftMute(client, roomId, state, userId));
    }
    for (const userId of state.usersWithRecord(BAN_STATE)) {
      const record = state.record<BanRecord>(BAN_STATE, userId);
      if (!due(record?.expires_at)) continue;
      const inForce = state.membership(userId) === 'ban' && state.event('m.room.member', userId)?.event_id === record!.ban_event_id;
      await each('ban', userId, inForce, () => liftBan(client, roomId, state, userId));
    }
  }
  return report;
}
