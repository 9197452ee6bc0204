import { ChatEntitlements } from '../../chat-domain/groups';
import { matrixUserIdCandidates, OidcProfileClaims, SYNAPSE_AUTH_PROVIDER_ID } from '../../chat-domain/matrix-identity';
import { CHAT_ROOM_DEFINITIONS, ChatRoomName, matrixRoomAlias } from '../../chat-domain/rooms';
import { syncServerAdmins } from '../shared/synapse-server-admins';
import { MatrixHttpError, StateEvent, SynapseMembershipClient } from './synapse-client';

/** What one Cognito user should be in Matrix. */
export interface MatrixWant {
  readonly sub: string;
  readonly claims: OidcProfileClaims;
  /** null: entitled to nothing (disabled, or gone from the pool). */
  readonly entitlements: ChatEntitlements | null;
  /** An enabled member of chat-admin: a Synapse server admin (see SynapseReconciler.apply). */
  readonly serverAdmin: boolean;
}

export interface SynapseReport {
  readonly joined: { readonly room: string; readonly userId: string }[];
  readonly kicked: { readonly room: string; readonly userId: string }[];
  /** Rooms whose m.room.power_levels this run changed (one event each). */
  readonly powerLevelUpdates: string[];
  /** Subs with no Matrix account yet (never signed in to Matrix): nothing to do for them. */
  readonly withoutAccount: string[];
  /** Full runs: whose Synapse server-admin flag this run set or cleared. */
  serverAdmins?: { readonly promoted: readonly string[]; readonly demoted: readonly string[] };
  readonly failures: { readonly what: string; readonly error: string }[];
}

interface RoomView {
  readonly name: ChatRoomName;
  readonly alias: string;
  readonly roomId: string;
  members: Map<string, string>;
  powerLevels: Record<string, unknown>;
}

/** Why the reconciler kicks: the member sees it in the room's timeline. */
export const KICK_REASON = 'No longer entitled to this room by Cognito group membership';

/** How many numbered Matrix ids (alice, alice1, …) the pre-1.68 fallback tries; Synapse appends one per taken id. */
const CANDIDATE_LIMIT = 20;

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Who the bot is, and the chat rooms by their aliases. Throws when a room is missing (the bootstrap has not run). */
export async function findChatRooms(
  client: SynapseMembershipClient,
  aliasSuffix: string,
): Promise<{ botUserId: string; serverName: string; rooms: { name: ChatRoomName; alias: string; roomId: string }[] }> {
  const botUserId = (await client.me()).user_id;
  const serverName = botUserId.slice(botUserId.indexOf(':') + 1);
  const rooms = [];
  for (const def of CHAT_ROOM_DEFINITIONS) {
    const alias = matrixRoomAlias({ alias: `${def.alias}${aliasSuffix}` }, serverName);
    const roomId = await client.roomIdForAlias(alias);
    if (!roomId) throw new Error(`the Matrix room ${alias} does not exist; the Synapse bootstrap (Custom::SynapseBootstrap) creates it`);
    rooms.push({ name: def.name, alias, roomId });
  }
  return { botUserId, serverName, rooms };
}

/**
 * The Synapse half of the reconciliation, as the admin bot. Read first (the three rooms' state:
 * memberships and power levels), then write only the differences, so a run that finds
 * everything as wanted sends nothing:
 * - join: `POST /_synapse/admin/v1/join/{alias}` for an entitled user who is not joined (Synapse
 *   invites as the bot, which is joined with power 100 >= invite 50, then joins as the user);
 *   never for a banned user: a ban is a moderator's, and the reconciler never lifts one;
 * - power levels: users[userId] = 50 for chat-support/chat-admin, removed (users_default 0) for
 *   everyone else the pool knows, one m.room.power_levels per room and only if it changes;
 *   levels at or above the bot's own are left alone (Synapse would refuse the change anyway);
 * - kick: a joined or invited user the groups no longer entitle (reason KICK_REASON).
 * Matrix ids come from Synapse itself (the user's external id, the Cognito sub), never a guess.
 */
export class SynapseReconciler {
  private rooms: RoomView[] = [];
  private botUserId = '';
  private serverName = '';
  private externalIdLookup: boolean | undefined;
  /** sub → Matrix id. Only found ids are kept: an account, once made, keeps its id and external id. */
  private static readonly knownIds = new Map<string, string>();

  /**
   * @param aliasSuffix appended to each room's alias localpart (`#internal<suffix>:server`), so tests
   *   can keep their own rooms on a shared homeserver; deployments use the plain aliases.
   */
  constructor(
    private readonly client: SynapseMembershipClient,
    private readonly aliasSuffix = '',
  ) {}

  /** Reads who the bot is and the chat rooms' current state. Throws when a room is missing (the bootstrap has not run). */
  async load(): Promise<void> {
    const found = await findChatRooms(this.client, this.aliasSuffix);
    this.botUserId = found.botUserId;
    this.serverName = found.serverName;
    this.rooms = [];
    for (const room of found.rooms) this.rooms.push({ ...room, ...this.view(await this.client.roomState(room.roomId)) });
  }

  private view(state: StateEvent[]): Pick<RoomView, 'members' | 'powerLevels'> {
    const members = new Map<string, string>();
    let powerLevels: Record<string, unknown> = {};
    for (const e of state) {
      if (e.type === 'm.room.member') members.set(e.state_key, String(e.content.membership));
      if (e.type === 'm.room.power_levels' && e.state_key === '') powerLevels = e.content;
    }
    return { members, powerLevels };
  }

  /**
   * The user's Matrix id, or undefined when they have no account. Synapse 1.68+ answers by external
   * id directly; older versions do not have that endpoint, so the ids Synapse's mapping would have
   * given (chat-domain/matrix-identity.ts: alice, alice1, ...) are read until one carries this
   * sub as its oidc-cognito external id, or one does not exist (Synapse takes the first free one).
   */
  async matrixIdOf(sub: string, claims: OidcProfileClaims): Promise<string | undefined> {
    const known = SynapseReconciler.knownIds.get(sub);
    if (known) return known;
    let found: string | undefined;
    if (this.externalIdLookup !== false) {
      const answer = await this.client.userByExternalId(SYNAPSE_AUTH_PROVIDER_ID, sub);
      this.externalIdLookup = answer !== 'unsupported';
      if (answer !== 'unsupported') found = answer.userId;
    }
    if (this.externalIdLookup === false) {
      // '+' became a localpart character in Synapse 1.89, long after the endpoint above (1.68).
      for (const candidate of matrixUserIdCandidates(claims, this.serverName, CANDIDATE_LIMIT, { plusAllowed: false })) {
        const user = await this.client.user(candidate);
        if (!user) break;
        if (user.external_ids?.some((e) => e.auth_provider === SYNAPSE_AUTH_PROVIDER_ID && e.external_id === sub)) {
          found = candidate;
          break;
        }
      }
    }
    if (found) SynapseReconciler.knownIds.set(sub, found);
    return found;
  }

  /** Forgets the sub → Matrix id cache (tests; an operator never needs it). */
  static forgetKnownIds(): void {
    SynapseReconciler.knownIds.clear();
  }

  /**
   * Applies the wanted state for `wants` (every pool user on a full run, one user otherwise).
   * `sweep`: also kick members that carry an oidc-cognito external id but whose sub is in no want
   * (deleted from the pool), and make Synapse's server-admin flag follow `serverAdmin`; both are
   * only meaningful when `wants` is the complete pool.
   */
  async apply(wants: readonly MatrixWant[], options: { readonly sweep: boolean }): Promise<SynapseReport> {
    const report: SynapseReport = { joined: [], kicked: [], powerLevelUpdates: [], withoutAccount: [], failures: [] };
    const wanted = new Map<string, ChatEntitlements | null>();
    const serverAdmins: string[] = [];
    for (const want of wants) {
      try {
        const userId = await this.matrixIdOf(want.sub, want.claims);
        if (userId) wanted.set(userId, want.entitlements);
        else report.withoutAccount.push(want.sub);
        if (userId && want.serverAdmin) serverAdmins.push(userId);
      } catch (err) {
        report.failures.push({ what: `look up the Matrix account of ${want.sub}`, error: errorText(err) });
      }
    }
    if (options.sweep) await this.addDeletedUsers(wanted, report);

    for (const room of this.rooms) {
      await this.joinEntitled(room, wanted, report);
      await this.setPowerLevels(room, wanted, report);
      await this.kickUnentitled(room, wanted, report);
    }
    if (options.sweep) await this.syncServerAdmins(serverAdmins, report);
    return report;
  }

  /**
   * Server admins = chat-admin's members with an account. Accounts that did not come in through
   * Cognito (the bot, an operator's local account) are never demoted, as they are never kicked.
   */
  private async syncServerAdmins(members: string[], report: SynapseReport): Promise<void> {
    try {
      const result = await syncServerAdmins(this.client.serverAdmins(), {
        members,
        keep: [this.botUserId],
        keepIf: async (userId) => !(await this.cameFromCognito(userId)),
      });
      report.serverAdmins = { promoted: result.promoted, demoted: result.demoted };
    } catch (err) {
      report.failures.push({ what: 'make the Synapse server admins follow chat-admin', error: errorText(err) });
    }
  }

  /** Whether the account carries an oidc-cognito external id, i.e. Synapse made it at a Cognito SSO login. */
  private async cameFromCognito(userId: string): Promise<boolean> {
    const user = await this.client.user(userId);
    return user?.external_ids?.some((e) => e.auth_provider === SYNAPSE_AUTH_PROVIDER_ID) ?? false;
  }

  /** Members that came in through Cognito SSO (oidc-cognito external id) but are no longer in the pool: entitled to nothing. */
  private async addDeletedUsers(wanted: Map<string, ChatEntitlements | null>, report: SynapseReport): Promise<void> {
    const candidates = new Set<string>();
    for (const room of this.rooms) {
      for (const [userId, membership] of room.members) {
        if ((membership === 'join' || membership === 'invite') && userId !== this.botUserId && !wanted.has(userId) && userId.endsWith(`:${this.serverName}`)) candidates.add(userId);
      }
    }
    for (const userId of candidates) {
      try {
        if (await this.cameFromCognito(userId)) wanted.set(userId, null);
      } catch (err) {
        report.failures.push({ what: `look up ${userId}`, error: errorText(err) });
      }
    }
  }

  private async joinEntitled(room: RoomView, wanted: Map<string, ChatEntitlements | null>, report: SynapseReport): Promise<void> {
    for (const [userId, entitlements] of wanted) {
      if (!entitlements?.rooms.includes(room.name)) continue;
      const membership = room.members.get(userId);
      if (membership === 'join' || membership === 'ban') continue;
      try {
        await this.client.adminJoin(room.alias, userId);
        room.members.set(userId, 'join');
        report.joined.push({ room: room.name, userId });
      } catch (err) {
        // Another run (the sign-in's, or the schedule's) may have joined them a moment ago: then
        // Synapse refuses the invite ("already in the room"), and the room's state says so.
        if (err instanceof MatrixHttpError && err.status === 403 && (await this.currentMembership(room, userId)) === 'join') continue;
        report.failures.push({ what: `join ${userId} to ${room.alias}`, error: errorText(err) });
      }
    }
  }

  private async currentMembership(room: RoomView, userId: string): Promise<string | undefined> {
    const fresh = this.view(await this.client.roomState(room.roomId));
    room.members = fresh.members;
    room.powerLevels = fresh.powerLevels;
    return fresh.members.get(userId);
  }

  private async setPowerLevels(room: RoomView, wanted: Map<string, ChatEntitlements | null>, report: SynapseReport): Promise<void> {
    if (!this.levelsWanted(room, room.powerLevels, wanted)) return;
    try {
      // Read again just before writing: the event is replaced whole, and a mute (or the lift of one)
      // that landed since load() would otherwise be undone by this run's older copy.
      const fresh = await this.client.powerLevels(room.roomId);
      const users = this.levelsWanted(room, fresh, wanted);
      room.powerLevels = fresh;
      if (!users) return;
      const content = { ...fresh, users };
      await this.client.putPowerLevels(room.roomId, content);
      room.powerLevels = content;
      report.powerLevelUpdates.push(room.name);
    } catch (err) {
      report.failures.push({ what: `set the power levels of ${room.alias}`, error: errorText(err) });
    }
  }

  /** The `users` map the groups want, or undefined when `powerLevels` already has it. */
  private levelsWanted(room: RoomView, powerLevels: Record<string, unknown>, wanted: Map<string, ChatEntitlements | null>): Record<string, number> | undefined {
    const users = { ...((powerLevels.users ?? {}) as Record<string, number>) };
    const botLevel = users[this.botUserId] ?? 100;
    const events = (powerLevels.events ?? {}) as Record<string, number>;
    const sendLevel = events['m.room.message'] ?? (powerLevels.events_default as number | undefined) ?? 0;
    let changed = false;
    for (const [userId, entitlements] of wanted) {
      if (userId === this.botUserId) continue;
      const want = entitlements?.rooms.includes(room.name) ? entitlements.matrixPowerLevel : 0;
      const current = users[userId];
      if (current !== undefined && current >= botLevel) continue; // Synapse refuses changing a level at or above one's own
      // Below the send level is a moderator's mute (the MCP server's chat_mute_user); its lift restores the level.
      if (current !== undefined && current < sendLevel) continue;
      if (want === 0 && current !== undefined) {
        delete users[userId];
        changed = true;
      } else if (want !== 0 && current !== want) {
        users[userId] = want;
        changed = true;
      }
    }
    return changed ? users : undefined;
  }

  private async kickUnentitled(room: RoomView, wanted: Map<string, ChatEntitlements | null>, report: SynapseReport): Promise<void> {
    for (const [userId, entitlements] of wanted) {
      if (userId === this.botUserId || entitlements?.rooms.includes(room.name)) continue;
      const membership = room.members.get(userId);
      if (membership !== 'join' && membership !== 'invite') continue;
      try {
        await this.client.kick(room.roomId, userId, KICK_REASON);
        room.members.set(userId, 'leave');
        report.kicked.push({ room: room.name, userId });
      } catch (err) {
        report.failures.push({ what: `kick ${userId} from ${room.alias}`, error: errorText(err) });
      }
    }
  }
}
