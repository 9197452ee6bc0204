import { MATRIX_ROOMS, MatrixRoomSpec } from '../../chat-domain/rooms';
import { MatrixClient, MatrixHttpError } from '../../chat-clients/matrix-client';

/** One of the chat rooms the bootstrap makes sure exists. */
export type RoomSpec = MatrixRoomSpec;

/** The seeds' three rooms, from the one definition Hasura Lite's chat_rooms rows are held to (chat-domain/rooms.ts). */
export const CHAT_ROOMS: readonly RoomSpec[] = MATRIX_ROOMS;

/**
 * Power levels that let the bot (room creator, 100) and anyone raised to 50
 * moderate, while members can only talk. Invites are a moderator action
 * because membership follows Cognito groups.
 */
export const MODERATION_POWER_LEVELS = {
  ban: 50,
  kick: 50,
  redact: 50,
  invite: 50,
  state_default: 50,
  events_default: 0,
  users_default: 0,
} as const;

export interface BotCredentials {
  readonly userId: string;
  readonly accessToken: string;
  readonly deviceId?: string;
}

/** Where the bot's access token is kept between runs (Secrets Manager in AWS, a file locally). */
export interface CredentialStore {
  load(): Promise<BotCredentials | undefined>;
  save(credentials: BotCredentials): Promise<void>;
}

export interface BootstrapOptions {
  readonly client: MatrixClient;
  /** Synapse's registration_shared_secret. */
  readonly sharedSecret: string;
  readonly bot: { readonly localpart: string; readonly password: string; readonly displayName: string };
  /** @default CHAT_ROOMS */
  readonly rooms?: readonly RoomSpec[];
  readonly store: CredentialStore;
  readonly log?: (message: string, details?: Record<string, unknown>) => void;
}

export interface RoomResult {
  readonly alias: string;
  readonly roomId: string;
  readonly created: boolean;
  /** The state events this run changed in an existing room (empty when it matched). */
  readonly updated: readonly string[];
  /**
   * Set when the room existed but the bot was not in it (an adopted server's room): the bot was made
   * its admin through the Synapse admin API and joined it.
   */
  readonly adopted?: true;
}

export interface BootstrapResult {
  readonly botUserId: string;
  /** How this run got the bot's token: the stored one was still valid, a new registration, or a password login. */
  readonly botSession: 'stored' | 'registered' | 'logged-in';
  readonly rooms: readonly RoomResult[];
}

/** A bootstrap failure with a message that says what to check. */
export class BootstrapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BootstrapError';
  }
}

const LOCALPART = /^[a-z0-9=_\-./+]+$/;

/**
 * Makes the homeserver match what the chat system needs, and changes nothing
 * that already matches: the admin bot exists and its token is stored; the
 * three rooms exist (private_chat, named, with topic and alias); their power
 * levels let the bot moderate.
 */
export async function bootstrapSynapse(options: BootstrapOptions): Promise<BootstrapResult> {
  const { client, bot } = options;
  const log = options.log ?? (() => undefined);
  if (!LOCALPART.test(bot.localpart)) throw new BootstrapError(`bot localpart "${bot.localpart}" is not a valid Matrix localpart (a-z, 0-9, =_-./+)`);
  if (!options.sharedSecret) throw new BootstrapError('the registration shared secret is empty');
  if (bot.password.length < 16) throw new BootstrapError('the bot password must be at least 16 characters');

  const { credentials, session } = await botSession(options);
  if (session !== 'stored') {
    await options.store.save(credentials);
    log('stored the bot access token', { userId: credentials.userId, session });
  }
  const token = credentials.accessToken;
  if (!(await client.isServerAdmin(token, credentials.userId).catch(adminCheckError(credentials.userId)))) {
    throw new BootstrapError(`${credentials.userId} exists but is not a server admin; make it one (PUT /_synapse/admin/v1/users/<id>/admin) and re-run`);
  }

  const serverName = credentials.userId.slice(credentials.userId.indexOf(':') + 1);
  const rooms: RoomResult[] = [];
  for (const spec of options.rooms ?? CHAT_ROOMS) {
    const result = await ensureRoom(client, token, credentials.userId, `#${spec.alias}:${serverName}`, spec);
    log(result.created ? 'created room' : result.updated.length ? 'updated room' : 'room already as wanted', { ...result });
    rooms.push(result);
  }
  return { botUserId: credentials.userId, botSession: session, rooms };
}

function adminCheckError(userId: string) {
  return (err: unknown): never => {
    if (err instanceof MatrixHttpError && err.status === 403) {
      throw new BootstrapError(`${userId} exists but is not a server admin; make it one (PUT /_synapse/admin/v1/users/<id>/admin) and re-run`);
    }
    throw err;
  };
}

async function botSession(options: BootstrapOptions): Promise<{ credentials: BotCredentials; session: BootstrapResult['botSession'] }> {
  const { client, bot } = options;
  const stored = await options.store.load();
  if (stored) {
    try {
      const who = await client.whoami(stored.accessToken);
      if (who.user_id.startsWith(`@${bot.localpart}:`)) return { credentials: stored, session: 'stored' };
    } catch (err) {
      if (!(err instanceof MatrixHttpError && err.status === 401)) throw err;
    }
  }

  try {
    const r = await client.registerWithSharedSecret(options.sharedSecret, { username: bot.localpart, password: bot.password, displayName: bot.displayName, admin: true });
    return { credentials: { userId: r.user_id, accessToken: r.access_token, deviceId: r.device_id }, session: 'registered' };
  } catch (err) {
    if (!(err instanceof MatrixHttpError)) throw err;
    if (err.status === 403) {
      throw new BootstrapError(`${client.baseUrl} rejected the registration shared secret (${err.serverMessage}): the secret given does not match Synapse's registration_shared_secret`);
    }
    if (err.status === 400 && /not enabled/i.test(err.serverMessage)) {
      throw new BootstrapError(`${client.baseUrl} has shared-secret registration disabled: set registration_shared_secret in homeserver.yaml`);
    }
    if (err.errcode !== 'M_USER_IN_USE') throw err;
  }

  try {
    const r = await client.loginWithPassword(bot.localpart, bot.password);
    return { credentials: { userId: r.user_id, accessToken: r.access_token, deviceId: r.device_id }, session: 'logged-in' };
  } catch (err) {
    if (err instanceof MatrixHttpError && err.status === 403) {
      throw new BootstrapError(
        `@${bot.localpart} already exists but its stored token is invalid and its password was refused; reset its password with the admin API (or restore the password secret) and re-run`,
      );
    }
    throw err;
  }
}

async function ensureRoom(client: MatrixClient, token: string, botUserId: string, alias: string, spec: RoomSpec): Promise<RoomResult> {
  let roomId = await client.resolveAlias(token, alias);
  if (!roomId) {
    try {
      roomId = await client.createRoom(token, {
        preset: 'private_chat',
        visibility: 'private',
        name: spec.name,
        topic: spec.topic,
        room_alias_name: spec.alias,
        power_level_content_override: MODERATION_POWER_LEVELS,
      });
      return { alias, roomId, created: true, updated: [] };
    } catch (err) {
      // Another run created it between our lookup and createRoom: use that room.
      if (!(err instanceof MatrixHttpError && err.errcode === 'M_ROOM_IN_USE')) throw err;
      roomId = await client.resolveAlias(token, alias);
      if (!roomId) throw err;
    }
  }

  const adopted = await joinExistingRoom(client, token, botUserId, alias, roomId);
  const updated: string[] = [];
  const name = await client.getState<{ name?: string }>(token, roomId, 'm.room.name');
  if (name?.name !== spec.name) {
    await client.putState(token, roomId, 'm.room.name', { name: spec.name });
    updated.push('m.room.name');
  }
  const topic = await client.getState<{ topic?: string }>(token, roomId, 'm.room.topic');
  if (topic?.topic !== spec.topic) {
    await client.putState(token, roomId, 'm.room.topic', { topic: spec.topic });
    updated.push('m.room.topic');
  }

  const levels = (await client.getState<Record<string, unknown>>(token, roomId, 'm.room.power_levels')) ?? {};
  if (!botCanModerate(botUserId, levels)) {
    throw new BootstrapError(`${botUserId} cannot moderate ${alias} (${roomId}): give it power level 100 in that room`);
  }
  const drift = Object.entries(MODERATION_POWER_LEVELS).filter(([k, v]) => levels[k] !== v);
  if (drift.length) {
    await client.putState(token, roomId, 'm.room.power_levels', { ...levels, ...MODERATION_POWER_LEVELS });
    updated.push('m.room.power_levels');
  }
  return { alias, roomId, created: false, updated, ...(adopted ? { adopted: true as const } : {}) };
}

/**
 * Makes sure the bot is in a room that already exists under the alias. A room the bot created has it
 * as a member; an adopted server's room (made by its old admin) does not, and is taken over, never
 * recreated: its history stays where it is. Returns true when it had to join.
 */
async function joinExistingRoom(client: MatrixClient, token: string, botUserId: string, alias: string, roomId: string): Promise<boolean> {
  try {
    await client.getState(token, roomId, 'm.room.create');
    return false;
  } catch (err) {
    // Synapse answers 403 M_FORBIDDEN to state reads from a user who is not in the room.
    if (!(err instanceof MatrixHttpError && err.status === 403)) throw err;
  }
  try {
    await client.makeRoomAdmin(token, roomId, botUserId);
  } catch (err) {
    if (err instanceof MatrixHttpError && err.status === 400) {
      throw new BootstrapError(
        `${alias} (${roomId}) exists but ${botUserId} is not in it, and Synapse could not make it the room's admin (${err.serverMessage}): ` +
          `have a member with power level 100 invite ${botUserId} and give it level 100, then re-run`,
      );
    }
    throw err;
  }
  await client.joinRoom(token, roomId);
  return true;
}

/**
 * False when the room's power levels list the bot below 100. A bot missing from `users` is
 * a creator in a version-12 room (creators have unlimited power there and are not listed).
 */
function botCanModerate(botUserId: string, levels: Record<string, unknown>): boolean {
  const level = ((levels.users ?? {}) as Record<string, unknown>)[botUserId];
  return typeof level !== 'number' || level >= 100;
}
