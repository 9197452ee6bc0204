import type { ChatRole } from '../chat-domain/groups';

/** A client-API event as /state, /messages and /event return it. */
export interface MatrixEvent {
  event_id: string;
  type: string;
  sender: string;
  origin_server_ts: number;
  state_key?: string;
  content: Record<string, unknown>;
  unsigned?: { redacted_because?: unknown };
}

export interface PowerLevels {
  users?: Record<string, number>;
  users_default?: number;
  events?: Record<string, number>;
  events_default?: number;
  ban?: number;
  redact?: number;
  [key: string]: unknown;
}

/** State events the MCP server keeps beside Matrix's own, so a timed mute or ban can be lifted. */
export const MUTE_STATE = 'com.thephenom.chat.mute';
export const BAN_STATE = 'com.thephenom.chat.ban';

/**
 * The state key of a user's mute or ban record: "user:@alice:server". Not the bare user id: Matrix
 * lets only the user themselves set state whose key starts with "@" (Synapse refuses anyone else,
 * the bot included, with "You are not allowed to set others state").
 */
const RECORD_PREFIX = 'user:';
export const recordKey = (userId: string): string => `${RECORD_PREFIX}${userId}`;

/** Record of a timed or open-ended mute: the level to restore, and the level the mute set. */
export interface MuteRecord {
  muted_until?: string | null;
  previous_power_level?: number;
  muted_power_level?: number;
}

/** Record of a timed ban, tied to the ban's member event so a later, different ban is never lifted by it. */
export interface BanRecord {
  expires_at?: string | null;
  ban_event_id?: string;
}

/** Seed roles from Matrix power levels: 100 is a room admin, 50 a moderator (support). */
export function roleForLevel(level: number): ChatRole {
  if (level >= 100) return 'admin';
  if (level >= 50) return 'support';
  return 'user';
}

/** A room's current state (GET /rooms/{roomId}/state), with the questions the backend asks of it. */
export class RoomState {
  private readonly byKey = new Map<string, MatrixEvent>();

  constructor(events: MatrixEvent[]) {
    for (const event of events) this.byKey.set(`${event.type}\u0000${event.state_key ?? ''}`, event);
  }

  event(type: string, stateKey = ''): MatrixEvent | undefined {
    return this.byKey.get(`${type}\u0000${stateKey}`);
  }

  content<T = Record<string, unknown>>(type: string, stateKey = ''): T | undefined {
    const content = this.event(type, stateKey)?.content;
    // An empty content is how a state event is "removed" in Matrix.
    return content && Object.keys(content).length ? (content as T) : undefined;
  }

  get powerLevels(): PowerLevels {
    return this.content<PowerLevels>('m.room.power_levels') ?? {};
  }

  levelOf(userId: string): number {
    const pl = this.powerLevels;
    return pl.users?.[userId] ?? pl.users_default ?? 0;
  }

  /** The level needed to post m.room.message. */
  get sendLevel(): number {
    const pl = this.powerLevels;
    return pl.events?.['m.room.message'] ?? pl.events_default ?? 0;
  }

  membership(userId: string): string | undefined {
    return (this.content<{ membership?: string }>('m.room.member', userId) ?? {}).membership;
  }

  members(membership = 'join'): MatrixEvent[] {
    return [...this.byKey.values()].filter((e) => e.type === 'm.room.member' && e.content.membership === membership);
  }

  /** The users that have a (non-empty) record of this type. */
  usersWithRecord(type: string): string[] {
    return [...this.byKey.values()].filter((e) => e.type === type && e.state_key?.startsWith(RECORD_PREFIX) && Object.keys(e.content).length > 0).map((e) => e.state_key!.slice(RECORD_PREFIX.length));
  }

  /** A user's mute or ban record, if it has one. */
  record<T>(type: string, userId: string): T | undefined {
    return this.content<T>(type, recordKey(userId));
  }

  get isActive(): boolean {
    return this.content('m.room.tombstone') === undefined;
  }
}
