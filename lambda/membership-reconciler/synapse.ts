import { ChatEntitlements } from '../../chat-domain/groups';
import { matrixUserIdCandidates, OidcProfileClaims, SYNAPSE_AUTH_PROVIDER_ID } from '../../chat-domain/matrix-identity';
import { CHAT_ROOM_DEFINITIONS, ChatRoomName, matrixRoomAlias } from '../../chat-domain/rooms';
import { MatrixHttpError, StateEvent, SynapseMembershipClient } from './synapse-client';

/** What one Cognito user should be in Matrix. */
export interface MatrixWant {
  readonly sub: string;
  readonly claims: OidcProfileClaims;
  /** null: entitled to nothing (disabled, or gone from the pool). */
  readonly entitlements: ChatEntitlements | null;
}

export interface SynapseReport {
  readonly joined: { readonly room: string; readonly userId: string }[];
  readonly kicked: { readonly room: string; readonly userId: string }[];
  /** Rooms whose m.room.power_levels this run changed (one event each). */
  readonly powerLevelUpdates: string[];
  /** Subs with no Matrix account yet (never signed in to Matrix): nothing to do for them. */
  readonly withoutAccount: string[];
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
    this.botUserId = (await this.client.me()).user_id;
    this.serverName = this.botUserId.slice(this.botUserId.indexOf(':') + 1);
    this.rooms = [];
    for (const def of CHAT_ROOM_DEFINITIONS) {
      const alias = matrixRoomAlias({ alias: `${def.alias}${this.aliasSuffix}` }, this.serverName);
      const roomId = await this.client.roomIdForAlias(alias);
      if (!roomId) throw new Error(`the Matrix room ${alias} does not exist; the Synapse bootstrap (Custom::SynapseBootstrap) creates it`);
      this.rooms.push({ name: def.name, alias, roomId, ...this.view(await this.client.roomState(roomId)) });
    }
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
   * (deleted from the pool); only meaningful when `wants` is the complete pool.
   */
  async apply(wants: readonly MatrixWant[], options: { readonly sweep: boolean }): Promise<SynapseReport> {
    const report: SynapseReport = { joined: [], kicked: [], powerLevelUpdates: [], withoutAccount: [], failures: [] };
    const wanted = new Map<string, ChatEntitlements | null>();
    for (const want of wants) {
      try {
        const userId = await this.matrixIdOf(want.sub, want.claims);
        if (userId) wanted.set(userId, want.entitlements);
        else report.withoutAccount.push(want.sub);
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
    return report;
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
        const user = await this.client.user(userId);
        if (user?.external_ids?.some((e) => e.auth_provider === SYNAPSE_AUTH_PROVIDER_ID)) wanted.set(userId, null);
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
    const users = { ...((room.powerLevels.users ?? {}) as Record<string, number>) };
    const botLevel = users[this.botUserId] ?? 100;
    let changed = false;
    for (const [userId, entitlements] of wanted) {
      if (userId === this.botUserId) continue;
      const want = entitlements?.rooms.includes(room.name) ? entitlements.matrixPowerLevel : 0;
      const current = users[userId];
      if (current !== undefined && current >= botLevel) continue; // Synapse refuses changing a level at or above one's own
      if (want === 0 && current !== undefined) {
        delete users[userId];
        changed = true;
      } else if (want !== 0 && current !== want) {
        users[userId] = want;
        changed = true;
      }
    }
    if (!changed) return;
    const content = { ...room.powerLevels, users };
    try {
      await this.client.putPowerLevels(room.roomId, content);
      room.powerLevels = content;
      report.powerLevelUpdates.push(room.name);
    } catch (err) {
      report.failures.push({ what: `set the power levels of ${room.alias}`, error: errorText(err) });
    }
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
