import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

/**
 * A stand-in Matrix homeserver: a real HTTP server on 127.0.0.1 that implements,
 * as the Matrix client-server spec (v1.x) and Synapse's admin API docs define
 * them, exactly the endpoints this project calls:
 *
 * - `GET  /health` (Synapse's health resource)
 * - `GET  /_matrix/client/versions`
 * - `GET|POST /_synapse/admin/v1/register` (shared-secret registration: nonce + HMAC-SHA1,
 *   checked in the same order and with the same errors as Synapse's UserRegisterServlet)
 * - `POST /_matrix/client/v3/login` (`m.login.password`)
 * - `GET  /_matrix/client/v3/account/whoami`
 * - `GET  /_matrix/client/v3/directory/room/{roomAlias}`
 * - `POST /_matrix/client/v3/createRoom` (presets, aliases, name/topic, power-level overrides)
 * - `GET|PUT /_matrix/client/v3/rooms/{roomId}/state/{eventType}/{stateKey}`
 * - `PUT  /_matrix/client/v3/rooms/{roomId}/send/{eventType}/{txnId}`
 * - `GET  /_matrix/client/v3/rooms/{roomId}/messages` (dir=b, newest first; `filter` with `types` and `lazy_load_members`)
 * - `GET  /_matrix/client/v3/rooms/{roomId}/state`, `.../joined_members`, `.../event/{eventId}`
 * - `PUT  /_matrix/client/v3/rooms/{roomId}/redact/{eventId}/{txnId}` (idempotent per transaction id, like send)
 * - `POST /_matrix/client/v3/rooms/{roomId}/ban|unban|invite|join|kick`
 * - `POST /_synapse/admin/v1/join/{roomIdOrAlias}` (JoinRoomAliasServlet: invite as the admin unless the room is public, then join as the user)
 * - `GET  /_synapse/admin/v1/auth_providers/{provider}/users/{externalId}` (Synapse >= 1.68; `externalIdLookup: false` answers 400 M_UNRECOGNIZED as 1.67 does)
 * - `PUT  /_synapse/admin/v2/users/{userId}` (create with displayname, password, admin, external_ids; an existing user's external_ids are replaced)
 * - `GET  /_matrix/client/v3/profile/{userId}` (optionally limited to users who share a room, as Synapse can be configured)
 * - `GET  /_synapse/admin/v2/users/{userId}`
 * Sends, redactions and state are checked against m.room.power_levels; every membership change goes
 * through RoomMemberHandler's pre-checks and event_auth's _is_membership_change_allowed, power-level
 * changes through _check_power_levels, in Synapse's order and with its messages (synapse/event_auth.py,
 * synapse/handlers/room_member.py, v1.142). Like Synapse, a state or membership event identical to the
 * current one from the same sender is not sent again (deduplicate_state_event).
 * Registrations (shared secret, admin PUT, `ssoRegister`) auto-join `autoJoinRooms` as Synapse's
 * RegistrationHandler._join_rooms does, inviting as `autoJoinMxidLocalpart` where the room needs it.
 * A state key starting with "@" may be set only by that user (event_auth: "You are not allowed to set others state").
 * - `GET|PUT /_synapse/admin/v1/users/{userId}/admin` (PUT: 404 for an unknown user, 400 when an admin demotes itself)
 * - `GET  /_synapse/admin/v2/users` (`from`/`limit` paging with `next_token`, `guests`; deactivated users are never stored here)
 * - `POST /_synapse/admin/v1/purge_history/{roomId}` and `GET /_synapse/admin/v1/purge_history_status/{purgeId}`
 * - `GET  /_synapse/admin/v1/server_version`
 * - `POST /_synapse/admin/v1/rooms/{roomIdOrAlias}/make_room_admin` (MakeRoomAdminRestServlet: the highest-powered
 *   joined local user raises the target to its own level, then invites it unless the room is public)
 *
 * Errors use the spec's `{errcode, error}` body. Every request is logged in
 * `requests`, so a test can assert that a second run changed nothing.
 */

export interface MatrixHomeserverOptions {
  /** @default 'localhost' */
  readonly serverName?: string;
  /** @default - shared-secret registration disabled, as when Synapse has no registration_shared_secret */
  readonly registrationSharedSecret?: string;
  /** Synapse's limit_profile_requests_to_users_who_share_rooms. @default false */
  readonly limitProfileRequestsToUsersWhoShareRooms?: boolean;
  /**
   * Whether `GET /_synapse/admin/v1/auth_providers/.../users/...` exists (Synapse 1.68+).
   * @default true
   */
  readonly externalIdLookup?: boolean;
  /** Synapse's auto_join_rooms (aliases). @default [] */
  readonly autoJoinRooms?: readonly string[];
  /** Synapse's auto_join_mxid_localpart: who sends the invites to auto-join rooms that need one. @default - none */
  readonly autoJoinMxidLocalpart?: string;
}

export interface LoggedRequest {
  readonly method: string;
  readonly path: string;
}

export interface StandInEvent {
  readonly event_id: string;
  readonly type: string;
  readonly sender: string;
  readonly state_key?: string;
  readonly content: Record<string, unknown>;
  readonly origin_server_ts: number;
  readonly room_id: string;
  /** Set on a redaction event: the event it redacts. */
  readonly redacts?: string;
  /** `redacted_because` once the event has been redacted. */
  readonly unsigned?: Record<string, unknown>;
}

interface User {
  readonly userId: string;
  password: string | null;
  admin: boolean;
  displayName: string | null;
  externalIds: { auth_provider: string; external_id: string }[];
  readonly creationTs: number;
}

interface Room {
  readonly roomId: string;
  readonly creator: string;
  readonly timeline: StandInEvent[];
  readonly state: Map<string, StandInEvent>;
  readonly members: Set<string>;
}

class MatrixError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
  ) {
    super(message);
  }
}

const NONCE_TIMEOUT_MS = 60_000;
const LOCALPART = /^[a-z0-9=_\-./+]+$/;
const USER_TYPES = ['support', 'bot'];
const stateKey = (type: string, key: string) => `${type}\u0000${key}`;
/** UserID.from_string: a sigil, a localpart and a server name. */
const USER_ID = /^@[^:]+:.+$/;
/** The levels _check_power_levels compares one by one. */
const NAMED_LEVELS = ['users_default', 'events_default', 'state_default', 'ban', 'redact', 'kick', 'invite'];
/** Canonical JSON, as Synapse compares contents (keys sorted). */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
const random = (n = 9) => randomBytes(n).toString('base64url');

export class MatrixHomeserver {
  /** Starts the server on a free loopback port. */
  static async start(options: MatrixHomeserverOptions = {}): Promise<MatrixHomeserver> {
    const hs = new MatrixHomeserver(options);
    await new Promise<void>((resolve, reject) => {
      hs.server.once('error', reject);
      hs.server.listen(0, '127.0.0.1', () => resolve());
    });
    hs.url = `http://127.0.0.1:${(hs.server.address() as AddressInfo).port}`;
    return hs;
  }

  readonly serverName: string;
  /** http://127.0.0.1:<port>; stays set after stop(), so a test can call a stopped server. */
  url = '';
  readonly requests: LoggedRequest[] = [];
  /** Set false to answer /health with 503, as Synapse does while starting. */
  healthy = true;

  private readonly sharedSecret?: string;
  private readonly limitProfiles: boolean;
  private readonly externalIdLookup: boolean;
  private readonly autoJoinRooms: readonly string[];
  private readonly autoJoinUserId?: string;
  private readonly server: Server;
  private readonly users = new Map<string, User>();
  private readonly tokens = new Map<string, { userId: string; deviceId: string }>();
  private readonly nonces = new Map<string, number>();
  private readonly rooms = new Map<string, Room>();
  private readonly aliases = new Map<string, string>();
  private readonly purges = new Map<string, 'active' | 'complete' | 'failed'>();
  private readonly txns = new Map<string, string>();

  private constructor(options: MatrixHomeserverOptions) {
    this.serverName = options.serverName ?? 'localhost';
    this.sharedSecret = options.registrationSharedSecret;
    this.limitProfiles = options.limitProfileRequestsToUsersWhoShareRooms ?? false;
    this.externalIdLookup = options.externalIdLookup ?? true;
    this.autoJoinRooms = options.autoJoinRooms ?? [];
    this.autoJoinUserId = options.autoJoinMxidLocalpart ? `@${options.autoJoinMxidLocalpart}:${this.serverName}` : undefined;
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Requests that change state (anything but GET), for "a re-run changed nothing" assertions. */
  writes(): LoggedRequest[] {
    return this.requests.filter((r) => r.method !== 'GET');
  }

  // ----- helpers for tests (direct access, as a test would use the Synapse admin API or DB) -----

  /** Creates a user directly and returns an access token for it. */
  createUser(localpart: string, opts: { password?: string; admin?: boolean } = {}): { userId: string; accessToken: string } {
    const userId = `@${localpart}:${this.serverName}`;
    if (this.users.has(userId)) throw new Error(`stand-in: ${userId} exists`);
    this.registerUser(userId, { password: opts.password ?? null, admin: opts.admin ?? false, displayName: localpart });
    return { userId, accessToken: this.issueToken(userId).access_token };
  }

  /**
   * What Synapse's OIDC callback does for a new user (SsoHandler): registers the localpart, or the
   * first of localpart1, localpart2, ... that is free, records the external id, auto-joins.
   */
  ssoRegister(localpart: string, authProvider: string, externalId: string, displayName: string | null): { userId: string; accessToken: string } {
    if (this.userIdForExternalId(authProvider, externalId)) throw new Error(`stand-in: ${authProvider}/${externalId} is registered already`);
    for (let failures = 0; failures < 1000; failures++) {
      const userId = `@${localpart}${failures || ''}:${this.serverName}`;
      if (this.users.has(userId)) continue;
      this.registerUser(userId, { password: null, admin: false, displayName: displayName ?? localpart, externalIds: [{ auth_provider: authProvider, external_id: externalId }] });
      return { userId, accessToken: this.issueToken(userId).access_token };
    }
    throw new Error('stand-in: no free localpart');
  }

  user(userId: string): { admin: boolean; displayName: string | null; hasPassword: boolean } | undefined {
    const u = this.users.get(userId);
    return u && { admin: u.admin, displayName: u.displayName, hasPassword: u.password !== null };
  }

  /** A room member's membership ('join', 'invite', 'leave', 'ban'), or undefined. */
  membership(roomId: string, userId: string): string | undefined {
    return (this.rooms.get(roomId)?.state.get(stateKey('m.room.member', userId))?.content as { membership?: string } | undefined)?.membership;
  }

  roomIdForAlias(alias: string): string | undefined {
    return this.aliases.get(alias);
  }

  /** A room's current state content for (type, stateKey), or undefined. */
  roomState(roomId: string, type: string, key = ''): Record<string, unknown> | undefined {
    return this.rooms.get(roomId)?.state.get(stateKey(type, key))?.content;
  }

  /** A room's timeline, oldest first. */
  timeline(roomId: string): readonly StandInEvent[] {
    return this.rooms.get(roomId)?.timeline ?? [];
  }

  roomIds(): string[] {
    return [...this.rooms.keys()];
  }

  /** Joins a user to a room directly (membership join), as an accepted invite would. */
  join(roomId: string, userId: string): void {
    const room = this.mustRoom(roomId);
    this.appendEvent(room, userId, 'm.room.member', { membership: 'join', ...this.profileOf(userId) }, userId);
  }

  /** Adds a timeline event with a chosen timestamp (e.g. an old message for purge tests). */
  injectMessage(roomId: string, sender: string, body: string, originServerTs: number): StandInEvent {
    return this.appendEvent(this.mustRoom(roomId), sender, 'm.room.message', { msgtype: 'm.text', body }, undefined, originServerTs);
  }

  // ----- HTTP -----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const method = req.method ?? 'GET';
    this.requests.push({ method, path: url.pathname });
    try {
      const body = method === 'GET' ? undefined : await readJson(req);
      const [status, payload] = await this.route(method, url, req, body);
      if (typeof payload === 'string') {
        res.writeHead(status, { 'content-type': 'text/plain' }).end(payload);
      } else {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
      }
    } catch (err) {
      const e = err instanceof MatrixError ? err : new MatrixError(500, 'M_UNKNOWN', String(err));
      res.writeHead(e.status, { 'content-type': 'application/json' }).end(JSON.stringify({ errcode: e.errcode, error: e.message }));
    }
  }

  private async route(method: string, url: URL, req: IncomingMessage, body: unknown): Promise<[number, unknown]> {
    const p = url.pathname;
    let m: RegExpMatchArray | null;
    if (p === '/health' && method === 'GET') {
      if (!this.healthy) throw new MatrixError(503, 'M_UNKNOWN', 'starting');
      return [200, 'OK'];
    }
    if (p === '/_matrix/client/versions' && method === 'GET') return [200, { versions: ['v1.1', 'v1.11'], unstable_features: {} }];
    if (p === '/_synapse/admin/v1/register') {
      if (method === 'GET') return this.getNonce();
      if (method === 'POST') return this.sharedSecretRegister(body);
    }
    if (p === '/_matrix/client/v3/login' && method === 'POST') return this.login(body);
    if (p === '/_matrix/client/v3/account/whoami' && method === 'GET') {
      const who = this.auth(req, url);
      return [200, { user_id: who.userId, device_id: who.deviceId, is_guest: false }];
    }
    if ((m = p.match(/^\/_matrix\/client\/v3\/directory\/room\/([^/]+)$/)) && method === 'GET') {
      const alias = decodeURIComponent(m[1]);
      const roomId = this.aliases.get(alias);
      if (!roomId) throw new MatrixError(404, 'M_NOT_FOUND', `Room alias ${alias} not found`);
      return [200, { room_id: roomId, servers: [this.serverName] }];
    }
    if (p === '/_matrix/client/v3/createRoom' && method === 'POST') return this.createRoom(this.auth(req, url).userId, body);
    if ((m = p.match(/^\/_matrix\/client\/v3\/rooms\/([^/]+)\/state\/([^/]+)(?:\/([^/]*))?$/))) {
      const who = this.auth(req, url).userId;
      const [roomId, type, key] = [decodeURIComponent(m[1]), decodeURIComponent(m[2]), decodeURIComponent(m[3] ?? '')];
      if (method === 'GET') return this.getState(who, roomId, type, key);
      if (method === 'PUT') return this.putState(who, roomId, type, key, body);
    }
    if ((m = p.match(/^\/_matrix\/client\/v3\/rooms\/([^/]+)\/send\/([^/]+)\/([^/]+)$/)) && method === 'PUT') {
      const who = this.auth(req, url);
      return this.send(who.userId, who.deviceId, decodeURIComponent(m[1]), decodeURIComponent(m[2]), decodeURIComponent(m[3]), body);
    }
    if ((m = p.match(/^\/_matrix\/client\/v3\/rooms\/([^/]+)\/messages$/)) && method === 'GET') {
      return this.messages(this.auth(req, url).userId, decodeURIComponent(m[1]), url.searchParams);
    }
    if ((m = p.match(/^\/_synapse\/admin\/v1\/purge_history\/([^/]+)$/)) && method === 'POST') {
      this.requireAdmin(req, url);
      return this.purgeHistory(decodeURIComponent(m[1]), body);
    }
    if ((m = p.match(/^\/_synapse\/admin\/v1\/purge_history_status\/([^/]+)$/)) && method === 'GET') {
      this.requireAdmin(req, url);
      const status = this.purges.get(decodeURIComponent(m[1]));
      if (!status) throw new MatrixError(404, 'M_NOT_FOUND', 'purge id not found');
      return [200, { status }];
    }
    if ((m = p.match(/^\/_synapse\/admin\/v1\/users\/([^/]+)\/admin$/)) && method === 'GET') {
      this.requireAdmin(req, url);
      const user = this.users.get(decodeURIComponent(m[1]));
      if (!user) throw new MatrixError(404, 'M_NOT_FOUND', 'User not found');
      return [200, { admin: user.admin }];
    }
    if ((m = p.match(/^\/_synapse\/admin\/v1\/users\/([^/]+)\/admin$/)) && method === 'PUT') {
      const requester = this.requireAdmin(req, url);
      const target = decodeURIComponent(m[1]);
      const b = body as { admin?: unknown } | undefined;
      if (!b || !('admin' in b)) throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing params: admin');
      if (!target.endsWith(`:${this.serverName}`)) throw new MatrixError(400, 'M_UNKNOWN', 'Only local users can be admins of this homeserver');
      if (target === requester && !b.admin) throw new MatrixError(400, 'M_UNKNOWN', 'You may not demote yourself.');
      const user = this.users.get(target);
      // Synapse updates the row and fails when there is none (StoreError 404 from simple_update_one).
      if (!user) throw new MatrixError(404, 'M_UNKNOWN', 'No row found (users)');
      user.admin = Boolean(b.admin);
      return [200, {}];
    }
    if (p === '/_synapse/admin/v2/users' && method === 'GET') {
      this.requireAdmin(req, url);
      const from = Number(url.searchParams.get('from') ?? '0');
      const limit = Number(url.searchParams.get('limit') ?? '100');
      const all = [...this.users.values()].sort((a, b) => a.userId.localeCompare(b.userId));
      const page = all.slice(from, from + limit);
      // Like Synapse 1.67: admin and deactivated as 0/1, and no `admins` filter.
      return [
        200,
        {
          users: page.map((u) => ({ name: u.userId, is_guest: 0, admin: u.admin ? 1 : 0, deactivated: 0, displayname: u.displayName })),
          total: all.length,
          ...(from + limit < all.length ? { next_token: String(from + limit) } : {}),
        },
      ];
    }
    if (p === '/_synapse/admin/v1/server_version' && method === 'GET') return [200, { server_version: '1.142.0 (stand-in)' }];
    if ((m = p.match(/^\/_synapse\/admin\/v1\/rooms\/([^/]+)\/make_room_admin$/)) && method === 'POST') {
      const caller = this.requireAdmin(req, url);
      return this.makeRoomAdmin(caller, decodeURIComponent(m[1]), body);
    }
    if ((m = p.match(/^\/_matrix\/client\/v3\/rooms\/([^/]+)\/(state|joined_members)$/)) && method === 'GET') {
      const room = this.mustJoined(decodeURIComponent(m[1]), this.auth(req, url).userId);
      if (m[2] === 'state') return [200, [...room.state.values()]];
      const joined = Object.fromEntries([...room.members].map((u) => [u, { display_name: this.displayNameIn(room, u), avatar_url: null }]));
      return [200, { joined }];
    }
    if ((m = p.match(/^\/_matrix\/client\/v3\/rooms\/([^/]+)\/event\/([^/]+)$/)) && method === 'GET') {
      const room = this.mustJoined(decodeURIComponent(m[1]), this.auth(req, url).userId);
      const event = room.timeline.find((e) => e.event_id === decodeURIComponent(m![2]));
      if (!event) throw new MatrixError(404, 'M_NOT_FOUND', 'Event not found.');
      return [200, event];
    }
    if ((m = p.match(/^\/_matrix\/client\/v3\/rooms\/([^/]+)\/redact\/([^/]+)\/([^/]+)$/)) && method === 'PUT') {
      const who = this.auth(req, url);
      return this.redact(who.userId, who.deviceId, decodeURIComponent(m[1]), decodeURIComponent(m[2]), decodeURIComponent(m[3]), body);
    }
    if ((m = p.match(/^\/_matrix\/client\/v3\/rooms\/([^/]+)\/(ban|unban|invite|join|kick)$/)) && method === 'POST') {
      return this.membershipChange(this.auth(req, url).userId, decodeURIComponent(m[1]), m[2] as 'ban' | 'unban' | 'invite' | 'join' | 'kick', body);
    }
    if ((m = p.match(/^\/_synapse\/admin\/v1\/join\/([^/]*)$/)) && method === 'POST') {
      return this.adminJoin(this.requireAdmin(req, url), decodeURIComponent(m[1]), body);
    }
    if ((m = p.match(/^\/_synapse\/admin\/v1\/auth_providers\/([^/]*)\/users\/([^/]*)$/)) && method === 'GET') {
      // Before 1.68 there is no such servlet, and Synapse then answered an unknown path with 400 (1.142: 404).
      if (!this.externalIdLookup) throw new MatrixError(400, 'M_UNRECOGNIZED', 'Unrecognized request');
      this.requireAdmin(req, url);
      const userId = this.userIdForExternalId(decodeURIComponent(m[1]), decodeURIComponent(m[2]));
      if (!userId) throw new MatrixError(404, 'M_NOT_FOUND', 'User not found');
      return [200, { user_id: userId }];
    }
    if ((m = p.match(/^\/_synapse\/admin\/v2\/users\/([^/]+)$/)) && method === 'PUT') {
      this.requireAdmin(req, url);
      return this.putUser(decodeURIComponent(m[1]), body);
    }
    if ((m = p.match(/^\/_matrix\/client\/v3\/profile\/([^/]+)$/)) && method === 'GET') {
      const requester = this.auth(req, url).userId;
      const target = decodeURIComponent(m[1]);
      if (this.limitProfiles && requester !== target && ![...this.rooms.values()].some((r) => r.members.has(requester) && r.members.has(target))) {
        throw new MatrixError(403, 'M_FORBIDDEN', "You don't share a room with this user");
      }
      const user = this.users.get(target);
      if (!user) throw new MatrixError(404, 'M_NOT_FOUND', 'Profile was not found');
      return [200, user.displayName === null ? {} : { displayname: user.displayName }];
    }
    if ((m = p.match(/^\/_synapse\/admin\/v2\/users\/([^/]+)$/)) && method === 'GET') {
      this.requireAdmin(req, url);
      const userId = this.localUserId(decodeURIComponent(m[1]), 'Can only look up local users');
      const user = this.users.get(userId);
      if (!user) throw new MatrixError(404, 'M_NOT_FOUND', 'User not found');
      return [200, this.userInfo(user)];
    }
    throw new MatrixError(404, 'M_UNRECOGNIZED', 'Unrecognized request');
  }

  // ----- auth -----

  private auth(req: IncomingMessage, url: URL): { userId: string; deviceId: string } {
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7) : url.searchParams.get('access_token');
    if (!token) throw new MatrixError(401, 'M_MISSING_TOKEN', 'Missing access token');
    const session = this.tokens.get(token);
    if (!session) throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Unknown access token');
    return session;
  }

  private requireAdmin(req: IncomingMessage, url: URL): string {
    const { userId } = this.auth(req, url);
    if (!this.users.get(userId)?.admin) throw new MatrixError(403, 'M_FORBIDDEN', 'You are not a server admin');
    return userId;
  }

  private issueToken(userId: string) {
    const access_token = `syt_${random(24)}`;
    const device_id = random(6).toUpperCase();
    this.tokens.set(access_token, { userId, deviceId: device_id });
    return { access_token, user_id: userId, home_server: this.serverName, device_id };
  }

  private getNonce(): [number, unknown] {
    this.clearOldNonces();
    const nonce = randomBytes(64).toString('hex');
    this.nonces.set(nonce, Date.now());
    return [200, { nonce }];
  }

  private clearOldNonces(): void {
    const now = Date.now();
    for (const [nonce, at] of this.nonces) if (now - at > NONCE_TIMEOUT_MS) this.nonces.delete(nonce);
  }

  /** Synapse's UserRegisterServlet.on_POST, check for check. */
  private sharedSecretRegister(raw: unknown): [number, unknown] {
    this.clearOldNonces();
    if (!this.sharedSecret) throw new MatrixError(400, 'M_UNKNOWN', 'Shared secret registration is not enabled');
    const body = asObject(raw);
    if (!('nonce' in body)) throw new MatrixError(400, 'M_BAD_JSON', 'nonce must be specified');
    const nonce = body.nonce as string;
    if (!this.nonces.has(nonce)) throw new MatrixError(400, 'M_UNKNOWN', 'unrecognised nonce');
    // Delete the nonce, so it can't be reused, even if it's invalid
    this.nonces.delete(nonce);

    if (!('username' in body)) throw new MatrixError(400, 'M_BAD_JSON', 'username must be specified');
    if (typeof body.username !== 'string' || body.username.length > 512) throw new MatrixError(400, 'M_UNKNOWN', 'Invalid username');
    const username = Buffer.from(body.username, 'utf8');
    if (username.includes(0)) throw new MatrixError(400, 'M_UNKNOWN', 'Invalid username');
    if (!('password' in body)) throw new MatrixError(400, 'M_BAD_JSON', 'password must be specified');
    if (typeof body.password !== 'string' || body.password.length > 512) throw new MatrixError(400, 'M_UNKNOWN', 'Invalid password');
    const password = Buffer.from(body.password, 'utf8');
    if (password.includes(0)) throw new MatrixError(400, 'M_UNKNOWN', 'Invalid password');
    const admin = body.admin ?? null;
    const userType = (body.user_type ?? null) as string | null;
    const displayName = (body.displayname ?? null) as string | null;
    if (userType !== null && !USER_TYPES.includes(userType)) throw new MatrixError(400, 'M_UNKNOWN', 'Invalid user type');
    if (!('mac' in body)) throw new MatrixError(400, 'M_BAD_JSON', 'mac must be specified');

    const mac = createHmac('sha1', Buffer.from(this.sharedSecret, 'utf8'));
    mac.update(Buffer.from(nonce, 'utf8')).update('\0').update(username).update('\0').update(password).update('\0');
    mac.update(admin ? 'admin' : 'notadmin');
    if (userType) mac.update('\0').update(Buffer.from(userType, 'utf8'));
    const want = Buffer.from(mac.digest('hex'), 'ascii');
    const got = Buffer.from(String(body.mac), 'ascii');
    if (want.length !== got.length || !timingSafeEqual(want, got)) throw new MatrixError(403, 'M_FORBIDDEN', 'HMAC incorrect');

    const localpart = body.username.toLowerCase();
    if (!LOCALPART.test(localpart)) {
      throw new MatrixError(400, 'M_INVALID_USERNAME', "User ID can only contain characters a-z, 0-9, or '=_-./+'");
    }
    const userId = `@${localpart}:${this.serverName}`;
    if (this.users.has(userId)) throw new MatrixError(400, 'M_USER_IN_USE', 'User ID already taken.');
    this.registerUser(userId, { password: body.password, admin: Boolean(admin), displayName: displayName ?? localpart });
    return [200, this.issueToken(userId)];
  }

  private login(raw: unknown): [number, unknown] {
    const body = asObject(raw);
    if (body.type !== 'm.login.password') throw new MatrixError(400, 'M_UNKNOWN', 'Unknown login type');
    const identifier = body.identifier as { type?: string; user?: string } | undefined;
    const user = identifier?.type === 'm.id.user' ? identifier.user : (body.user as string | undefined);
    if (typeof user !== 'string' || typeof body.password !== 'string') throw new MatrixError(400, 'M_BAD_JSON', 'Missing user or password');
    const userId = user.startsWith('@') ? user.toLowerCase() : `@${user.toLowerCase()}:${this.serverName}`;
    const found = this.users.get(userId);
    if (!found || found.password === null || found.password !== body.password) {
      throw new MatrixError(403, 'M_FORBIDDEN', 'Invalid username or password');
    }
    return [200, this.issueToken(userId)];
  }

  // ----- rooms -----

  private mustRoom(roomId: string): Room {
    const room = this.rooms.get(roomId);
    if (!room) throw new MatrixError(404, 'M_NOT_FOUND', `Unknown room ${roomId}`);
    return room;
  }

  private appendEvent(room: Room, sender: string, type: string, content: Record<string, unknown>, key?: string, ts = Date.now()): StandInEvent {
    const event: StandInEvent = {
      event_id: `$${random(16)}`,
      type,
      sender,
      content,
      origin_server_ts: ts,
      room_id: room.roomId,
      ...(key === undefined ? {} : { state_key: key }),
    };
    room.timeline.push(event);
    if (key !== undefined) {
      room.state.set(stateKey(type, key), event);
      if (type === 'm.room.member') {
        if (content.membership === 'join') room.members.add(key);
        else room.members.delete(key);
      }
    }
    return event;
  }

  private powerLevel(room: Room, userId: string): number {
    const pl = room.state.get(stateKey('m.room.power_levels', ''))?.content as { users?: Record<string, number>; users_default?: number } | undefined;
    return pl?.users?.[userId] ?? pl?.users_default ?? 0;
  }

  private requiredForState(room: Room, type: string): number {
    const pl = room.state.get(stateKey('m.room.power_levels', ''))?.content as { events?: Record<string, number>; state_default?: number } | undefined;
    return pl?.events?.[type] ?? pl?.state_default ?? 50;
  }

  private createRoom(creator: string, raw: unknown): [number, unknown] {
    const body = asObject(raw);
    const preset = (body.preset as string | undefined) ?? (body.visibility === 'public' ? 'public_chat' : 'private_chat');
    if (!['private_chat', 'public_chat', 'trusted_private_chat'].includes(preset)) throw new MatrixError(400, 'M_BAD_JSON', `Unknown preset ${preset}`);
    let alias: string | undefined;
    if (body.room_alias_name !== undefined) {
      if (typeof body.room_alias_name !== 'string' || /[:\s]/.test(body.room_alias_name)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid characters in room alias');
      alias = `#${body.room_alias_name}:${this.serverName}`;
      if (this.aliases.has(alias)) throw new MatrixError(400, 'M_ROOM_IN_USE', 'Room alias already taken');
    }
    const room: Room = { roomId: `!${random(12)}:${this.serverName}`, creator, timeline: [], state: new Map(), members: new Set() };
    this.rooms.set(room.roomId, room);
    this.appendEvent(room, creator, 'm.room.create', { room_version: '10', creator }, '');
    // Like Synapse, a join carries the user's profile display name.
    this.appendEvent(room, creator, 'm.room.member', { membership: 'join', ...this.profileOf(creator) }, creator);
    const powerLevels = {
      users: { [creator]: 100 },
      users_default: 0,
      events: {
        'm.room.name': 50,
        'm.room.power_levels': 100,
        'm.room.history_visibility': 100,
        'm.room.canonical_alias': 50,
        'm.room.avatar': 50,
        'm.room.tombstone': 100,
        'm.room.server_acl': 100,
        'm.room.encryption': 100,
      },
      events_default: 0,
      state_default: 50,
      ban: 50,
      kick: 50,
      redact: 50,
      invite: preset === 'public_chat' ? 50 : 0,
      ...(asObjectOrUndefined(body.power_level_content_override) ?? {}),
    };
    this.appendEvent(room, creator, 'm.room.power_levels', powerLevels, '');
    if (alias) {
      this.aliases.set(alias, room.roomId);
      this.appendEvent(room, creator, 'm.room.canonical_alias', { alias }, '');
    }
    this.appendEvent(room, creator, 'm.room.join_rules', { join_rule: preset === 'public_chat' ? 'public' : 'invite' }, '');
    this.appendEvent(room, creator, 'm.room.history_visibility', { history_visibility: 'shared' }, '');
    if (preset !== 'public_chat') this.appendEvent(room, creator, 'm.room.guest_access', { guest_access: 'can_join' }, '');
    for (const ev of (body.initial_state as Array<{ type: string; state_key?: string; content: Record<string, unknown> }> | undefined) ?? []) {
      this.appendEvent(room, creator, ev.type, ev.content, ev.state_key ?? '');
    }
    if (typeof body.name === 'string') this.appendEvent(room, creator, 'm.room.name', { name: body.name }, '');
    if (typeof body.topic === 'string') this.appendEvent(room, creator, 'm.room.topic', { topic: body.topic }, '');
    return [200, { room_id: room.roomId }];
  }

  private getState(userId: string, roomId: string, type: string, key: string): [number, unknown] {
    const room = this.mustRoom(roomId);
    if (!room.members.has(userId)) throw new MatrixError(403, 'M_FORBIDDEN', `User ${userId} not in room ${roomId}`);
    const event = room.state.get(stateKey(type, key));
    if (!event) throw new MatrixError(404, 'M_NOT_FOUND', 'Event not found.');
    return [200, event.content];
  }

  private putState(userId: string, roomId: string, type: string, key: string, raw: unknown): [number, unknown] {
    const room = this.mustRoom(roomId);
    if (!room.members.has(userId)) throw new MatrixError(403, 'M_FORBIDDEN', `User ${userId} not in room ${roomId}`);
    if (type === 'm.room.member') {
      // Membership events follow the membership auth rules, not power levels. Through this
      // endpoint the stand-in supports only what clients use it for: a joined member re-sending
      // their own join, e.g. to set a per-room display name, or leaving (Synapse's state servlet
      // hands m.room.member to update_membership; ban, invite... have their own endpoints).
      const content = asObject(raw);
      if (key !== userId || (content.membership !== 'join' && content.membership !== 'leave')) {
        throw new MatrixError(403, 'M_FORBIDDEN', 'the stand-in accepts only your own join or leave event here');
      }
      const event = this.appendEvent(room, userId, type, content, key);
      return [200, { event_id: event.event_id }];
    }
    if (this.powerLevel(room, userId) < this.requiredForState(room, type)) {
      throw new MatrixError(403, 'M_FORBIDDEN', `You don't have permission to post that to the room.`);
    }
    // Synapse's event_auth: a state key that starts with "@" may be set only by that user, whatever
    // their power level (room admins and server admins included).
    if (key.startsWith('@') && key !== userId) throw new MatrixError(403, 'M_FORBIDDEN', 'You are not allowed to set others state');
    const content = asObject(raw);
    // deduplicate_state_event: the same sender sending the current content again gets the current event back.
    const current = room.state.get(stateKey(type, key));
    if (current && current.sender === userId && canonicalJson(current.content) === canonicalJson(content)) return [200, { event_id: current.event_id }];
    if (type === 'm.room.power_levels') this.checkPowerLevelChange(room, userId, content);
    const event = this.appendEvent(room, userId, type, content, key);
    return [200, { event_id: event.event_id }];
  }

  /** event_auth._check_power_levels for a room version that enforces integer levels (v10, the stand-in's). */
  private checkPowerLevelChange(room: Room, userId: string, next: Record<string, unknown>): void {
    const users = next.users ?? {};
    if (!users || typeof users !== 'object' || Array.isArray(users)) throw new MatrixError(400, 'M_UNKNOWN', `${JSON.stringify(users)} must be a dict wherein all the values are integers.`);
    for (const [k, v] of Object.entries(users)) {
      if (!USER_ID.test(k)) throw new MatrixError(400, 'M_UNKNOWN', `Not a valid user_id: ${k}`);
      if (!Number.isInteger(v)) throw new MatrixError(400, 'M_UNKNOWN', `Not a valid power level: ${String(v)}`);
    }
    for (const [k, v] of Object.entries(next)) {
      if (NAMED_LEVELS.includes(k) && !Number.isInteger(v)) throw new MatrixError(400, 'M_UNKNOWN', `${JSON.stringify(v)} must be an integer.`);
      if (['events', 'notifications', 'users'].includes(k) && (!v || typeof v !== 'object' || !Object.values(v).every((x) => Number.isInteger(x)))) {
        throw new MatrixError(400, 'M_UNKNOWN', `${JSON.stringify(v)} must be a dict wherein all the values are integers.`);
      }
    }
    const current = room.state.get(stateKey('m.room.power_levels', ''))?.content;
    if (!current) return;
    const mine = this.powerLevel(room, userId);
    const checks: [string, 'users' | 'events' | 'notifications' | undefined][] = NAMED_LEVELS.map((k) => [k, undefined]);
    for (const dir of ['users', 'events', 'notifications'] as const) {
      const before = (current[dir] ?? {}) as Record<string, unknown>;
      const after = (next[dir] ?? {}) as Record<string, unknown>;
      for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) checks.push([k, dir]);
    }
    for (const [key, dir] of checks) {
      const before = (dir ? (current[dir] ?? {}) : current) as Record<string, unknown>;
      const after = (dir ? (next[dir] ?? {}) : next) as Record<string, unknown>;
      const oldLevel = key in before ? Number(before[key]) : undefined;
      const newLevel = key in after ? Number(after[key]) : undefined;
      if (oldLevel !== undefined && newLevel !== undefined && oldLevel === newLevel) continue;
      if (dir === 'users' && key !== userId && oldLevel === mine) throw new MatrixError(403, 'M_FORBIDDEN', "You don't have permission to remove ops level equal to your own");
      if ((oldLevel !== undefined && oldLevel > mine) || (newLevel !== undefined && newLevel > mine)) {
        throw new MatrixError(403, 'M_FORBIDDEN', "You don't have permission to add ops level greater than your own");
      }
    }
  }

  private send(userId: string, deviceId: string, roomId: string, type: string, txnId: string, raw: unknown): [number, unknown] {
    const room = this.mustRoom(roomId);
    if (!room.members.has(userId)) throw new MatrixError(403, 'M_FORBIDDEN', `User ${userId} not in room ${roomId}`);
    const txnKey = `${userId}\u0000${deviceId}\u0000${roomId}\u0000${txnId}`;
    const seen = this.txns.get(txnKey);
    if (seen) return [200, { event_id: seen }];
    const pl = room.state.get(stateKey('m.room.power_levels', ''))?.content as { events?: Record<string, number>; events_default?: number } | undefined;
    const required = pl?.events?.[type] ?? pl?.events_default ?? 0;
    const level = this.powerLevel(room, userId);
    if (level < required) {
      throw new MatrixError(403, 'M_FORBIDDEN', `You don't have permission to post that to the room. user_level (${level}) < send_level (${required})`);
    }
    const event = this.appendEvent(room, userId, type, asObject(raw));
    this.txns.set(txnKey, event.event_id);
    return [200, { event_id: event.event_id }];
  }

  private messages(userId: string, roomId: string, q: URLSearchParams): [number, unknown] {
    const room = this.mustRoom(roomId);
    if (!room.members.has(userId)) throw new MatrixError(403, 'M_FORBIDDEN', `User ${userId} not in room ${roomId}`);
    if ((q.get('dir') ?? 'b') !== 'b') throw new MatrixError(400, 'M_INVALID_PARAM', 'the stand-in implements dir=b only');
    const limit = Math.min(Number(q.get('limit') ?? 10), 1000);
    const from = q.has('from') ? Number(q.get('from')) : room.timeline.length;
    if (!Number.isInteger(from) || from < 0 || from > room.timeline.length) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid from token');
    let filter: { types?: string[]; lazy_load_members?: boolean } = {};
    if (q.has('filter')) {
      try {
        filter = JSON.parse(q.get('filter')!) as typeof filter;
      } catch {
        throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid filter');
      }
    }
    // Walk back from the token, collecting up to `limit` events that pass the filter (as Synapse does).
    const chunk: StandInEvent[] = [];
    let position = from;
    while (position > 0 && chunk.length < limit) {
      position--;
      const event = room.timeline[position]!;
      if (!filter.types || filter.types.includes(event.type)) chunk.push(event);
    }
    const state = filter.lazy_load_members
      ? [...new Set(chunk.map((e) => e.sender))].map((sender) => room.state.get(stateKey('m.room.member', sender))).filter((e): e is StandInEvent => e !== undefined)
      : undefined;
    return [200, { start: String(from), chunk, ...(position > 0 ? { end: String(position) } : {}), ...(state ? { state } : {}) }];
  }

  private profileOf(userId: string): { displayname?: string } {
    const name = this.users.get(userId)?.displayName;
    return name ? { displayname: name } : {};
  }

  private mustJoined(roomId: string, userId: string): Room {
    const room = this.mustRoom(roomId);
    if (!room.members.has(userId)) throw new MatrixError(403, 'M_FORBIDDEN', `User ${userId} not in room ${roomId}`);
    return room;
  }

  private displayNameIn(room: Room, userId: string): string | null {
    const member = room.state.get(stateKey('m.room.member', userId))?.content as { displayname?: string } | undefined;
    return member?.displayname ?? this.users.get(userId)?.displayName ?? null;
  }

  private requiredLevel(room: Room, action: 'ban' | 'redact' | 'invite' | 'kick'): number {
    const pl = room.state.get(stateKey('m.room.power_levels', ''))?.content as Record<string, number> | undefined;
    return pl?.[action] ?? (action === 'invite' ? 0 : 50);
  }

  /** Redaction: the original keeps its type and ids, loses its content, and gains unsigned.redacted_because. */
  private redact(userId: string, deviceId: string, roomId: string, eventId: string, txnId: string, raw: unknown): [number, unknown] {
    const room = this.mustJoined(roomId, userId);
    const txnKey = `${userId}\u0000${deviceId}\u0000${roomId}\u0000redact\u0000${txnId}`;
    const seen = this.txns.get(txnKey);
    if (seen) return [200, { event_id: seen }];
    const index = room.timeline.findIndex((e) => e.event_id === eventId);
    if (index < 0) throw new MatrixError(404, 'M_NOT_FOUND', 'Event not found.');
    const target = room.timeline[index]!;
    if (target.sender !== userId && this.powerLevel(room, userId) < this.requiredLevel(room, 'redact')) {
      throw new MatrixError(403, 'M_FORBIDDEN', "You don't have permission to redact events");
    }
    const reason = asObject(raw).reason;
    const redaction = this.appendEvent(room, userId, 'm.room.redaction', typeof reason === 'string' ? { reason } : {});
    const withRedacts = { ...redaction, redacts: eventId };
    room.timeline[room.timeline.length - 1] = withRedacts;
    room.timeline[index] = { ...target, content: {}, unsigned: { redacted_because: withRedacts } };
    this.txns.set(txnKey, redaction.event_id);
    return [200, { event_id: redaction.event_id }];
  }

  /** RoomMembershipRestServlet: join for oneself, invite/kick/ban/unban for `user_id`. */
  private membershipChange(userId: string, roomId: string, action: 'ban' | 'unban' | 'invite' | 'join' | 'kick', raw: unknown): [number, unknown] {
    const room = this.mustRoom(roomId);
    const body = asObject(raw);
    const reason = typeof body.reason === 'string' ? body.reason : undefined;
    if (action === 'join') {
      this.updateMembership(room, userId, userId, 'join', reason);
      return [200, { room_id: roomId }];
    }
    if (!('user_id' in body)) throw new MatrixError(400, 'M_MISSING_PARAM', "Missing params: ['user_id']");
    const target = String(body.user_id);
    if (!USER_ID.test(target)) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid user id: ${target}`);
    if (action === 'invite' && !this.users.has(target)) throw new MatrixError(404, 'M_NOT_FOUND', 'Profile was not found');
    this.updateMembership(room, userId, target, action, reason);
    return [200, {}];
  }

  /**
   * Synapse's MakeRoomAdminRestServlet (synapse/rest/admin/rooms.py): picks the joined local user with the
   * highest level in the room's power levels, has it give the target that same level (through the normal
   * power-level auth rules), then invites the target unless it is joined or invited already, or the room is public.
   */
  private makeRoomAdmin(caller: string, roomIdOrAlias: string, raw: unknown): [number, unknown] {
    const roomId = roomIdOrAlias.startsWith('#') ? this.aliases.get(roomIdOrAlias) : roomIdOrAlias;
    if (!roomId) throw new MatrixError(404, 'M_NOT_FOUND', `Room alias ${roomIdOrAlias} not found`);
    const room = this.rooms.get(roomId);
    if (!room) throw new MatrixError(400, 'M_UNKNOWN', 'Server not in room');
    const target = (asObject(raw).user_id as string | undefined) ?? caller;
    const levels = (room.state.get(stateKey('m.room.power_levels', ''))?.content ?? {}) as { users?: Record<string, number> };
    const users = levels.users ?? {};
    const local = (u: string) => u.endsWith(`:${this.serverName}`);
    const admin = Object.keys(users)
      .filter(local)
      .sort((a, b) => users[a]! - users[b]!)
      .reverse()
      .find((u) => room.members.has(u));
    if (!admin) throw new MatrixError(400, 'M_UNKNOWN', 'No local admin user in room');
    try {
      this.putState(admin, roomId, 'm.room.power_levels', '', { ...levels, users: { ...users, [target]: users[admin] ?? 100 } });
    } catch {
      throw new MatrixError(400, 'M_UNKNOWN', 'No local admin user in room with power to update power levels.');
    }
    const membership = (room.state.get(stateKey('m.room.member', target))?.content as { membership?: string } | undefined)?.membership;
    const joinRule = (room.state.get(stateKey('m.room.join_rules', ''))?.content as { join_rule?: string } | undefined)?.join_rule;
    if (membership !== 'join' && membership !== 'invite' && joinRule !== 'public') {
      this.membershipChange(admin, roomId, 'invite', { user_id: target });
    }
    return [200, {}];
  }

  /**
   * RoomMemberHandler.update_membership_locked's checks (unban needs a ban, nothing but
   * ban/unban/leave on a banned user, a kick needs a target in the room, an identical event
   * from the same sender is the existing one), then event_auth, then the event.
   */
  private updateMembership(room: Room, sender: string, target: string, action: 'invite' | 'join' | 'leave' | 'ban' | 'unban' | 'kick', reason?: string): StandInEvent {
    const membership = action === 'kick' || action === 'unban' ? 'leave' : action;
    // What the servlet hands the handler (only a reason); Synapse adds membership and profile later.
    const requested: Record<string, unknown> = reason ? { reason } : {};
    const content: Record<string, unknown> = { membership, ...(membership === 'join' || membership === 'invite' ? this.profileOf(target) : {}), ...requested };
    const old = room.state.get(stateKey('m.room.member', target));
    if (old) {
      const oldMembership = old.content.membership;
      if (action === 'unban' && oldMembership !== 'ban') {
        throw new MatrixError(403, 'M_BAD_STATE', `Cannot unban user who was not banned (membership=${String(oldMembership)})`);
      }
      if (oldMembership === 'ban' && !['ban', 'unban', 'leave'].includes(action)) throw new MatrixError(403, 'M_BAD_STATE', `Cannot ${action} user who was banned`);
      // Synapse's "duplicate event" check compares the *requested* content with the old event's, which
      // always holds `membership`: so in practice it never matches, and a repeat is judged afresh.
      if (old.sender === sender && oldMembership === membership && canonicalJson(old.content) === canonicalJson(requested)) return old;
      if ((oldMembership === 'ban' || oldMembership === 'leave') && action === 'kick') throw new MatrixError(403, 'M_FORBIDDEN', 'The target user is not in the room');
    } else if (action === 'kick') {
      throw new MatrixError(403, 'M_FORBIDDEN', 'The target user is not in the room');
    }
    this.checkMembershipAuth(room, sender, target, membership);
    return this.appendEvent(room, sender, 'm.room.member', content, target);
  }

  /** event_auth._is_membership_change_allowed for room version 10 (invite join rules, no knocking). */
  private checkMembershipAuth(room: Room, sender: string, target: string, membership: 'invite' | 'join' | 'leave' | 'ban'): void {
    const caller = this.membership(room.roomId, sender);
    const callerInRoom = caller === 'join';
    const callerInvited = caller === 'invite';
    const targetMembership = this.membership(room.roomId, target);
    const targetInRoom = targetMembership === 'join';
    const targetBanned = targetMembership === 'ban';
    const joinRule = (room.state.get(stateKey('m.room.join_rules', ''))?.content.join_rule as string | undefined) ?? 'invite';
    const userLevel = this.powerLevel(room, sender);
    const targetLevel = this.powerLevel(room, target);
    const forbidden = (message: string) => new MatrixError(403, 'M_FORBIDDEN', message);

    if (membership !== 'join') {
      if (callerInvited && membership === 'leave' && target === sender) return;
      if (!callerInRoom) throw forbidden(`${sender} not in room ${room.roomId}.`);
    }
    if (membership === 'invite') {
      if (targetBanned) throw forbidden(`${target} is banned from the room`);
      if (targetInRoom) throw forbidden(`${target} is already in the room.`);
      if (userLevel < this.requiredLevel(room, 'invite')) throw forbidden("You don't have permission to invite users");
    } else if (membership === 'join') {
      if (sender !== target) throw forbidden('Cannot force another user to join.');
      if (targetBanned) throw forbidden('You are banned from this room');
      if (joinRule === 'public') return;
      if (joinRule === 'invite') {
        if (!(callerInRoom || callerInvited)) throw forbidden('You are not invited to this room.');
        return;
      }
      throw forbidden('You are not allowed to join this room');
    } else if (membership === 'leave') {
      if (targetBanned && userLevel < this.requiredLevel(room, 'ban')) throw forbidden(`You cannot unban user ${target}.`);
      if (!targetBanned && target !== sender && (userLevel < this.requiredLevel(room, 'kick') || userLevel <= targetLevel)) throw forbidden(`You cannot kick user ${target}.`);
    } else {
      if (userLevel < this.requiredLevel(room, 'ban')) throw forbidden("You don't have permission to ban");
      if (userLevel <= targetLevel) throw forbidden("You don't have permission to ban this user");
    }
  }

  /** Synapse's JoinRoomAliasServlet: a server admin joins a local user to a room, inviting them first unless the room is public. */
  private adminJoin(adminId: string, identifier: string, raw: unknown): [number, unknown] {
    const body = asObject(raw);
    if (!('user_id' in body)) throw new MatrixError(400, 'M_MISSING_PARAM', "Missing params: ['user_id']");
    const target = this.localUserId(String(body.user_id), 'This endpoint can only be used with local users');
    if (!this.users.has(target)) throw new MatrixError(404, 'M_NOT_FOUND', 'User not found');
    let roomId: string;
    if (identifier.startsWith('!')) roomId = identifier;
    else if (identifier.startsWith('#')) {
      const found = this.aliases.get(identifier);
      if (!found) throw new MatrixError(404, 'M_NOT_FOUND', `Room alias ${identifier} not found`);
      roomId = found;
    } else throw new MatrixError(400, 'M_UNKNOWN', `${identifier} was not legal room ID or room alias`);
    const room = this.mustRoom(roomId);
    const joinRule = room.state.get(stateKey('m.room.join_rules', ''))?.content.join_rule;
    if (joinRule !== 'public') this.updateMembership(room, adminId, target, 'invite');
    this.updateMembership(room, target, target, 'join');
    return [200, { room_id: roomId }];
  }

  /** UserRestServletV2.on_PUT: creates a user (201) or changes one (200); external ids may belong to one user only (409). */
  private putUser(rawUserId: string, raw: unknown): [number, unknown] {
    const userId = this.localUserId(rawUserId, 'This endpoint can only be used with local users');
    const body = asObject(raw);
    const externalIds = body.external_ids as unknown[] | undefined;
    if (externalIds !== undefined) {
      for (const e of externalIds) {
        const missing = ['auth_provider', 'external_id'].filter((k) => !(e && typeof e === 'object' && k in e));
        if (missing.length) throw new MatrixError(400, 'M_MISSING_PARAM', `Missing params: ${JSON.stringify(missing).replace(/"/g, "'")}`);
      }
    }
    const ids = (externalIds as { auth_provider: string; external_id: string }[] | undefined)?.map((e) => ({ auth_provider: String(e.auth_provider), external_id: String(e.external_id) }));
    if (body.password !== undefined && (typeof body.password !== 'string' || body.password.length > 512)) throw new MatrixError(400, 'M_UNKNOWN', 'Invalid password');
    for (const e of ids ?? []) {
      const owner = this.userIdForExternalId(e.auth_provider, e.external_id);
      if (owner && owner !== userId) throw new MatrixError(409, 'M_UNKNOWN', 'External id is already in use.');
    }
    const existing = this.users.get(userId);
    if (existing) {
      if (ids) existing.externalIds = ids;
      if (typeof body.displayname === 'string') existing.displayName = body.displayname;
      if (typeof body.admin === 'boolean') existing.admin = body.admin;
      if (typeof body.password === 'string') existing.password = body.password;
      return [200, this.userInfo(existing)];
    }
    const displayName = typeof body.displayname === 'string' ? body.displayname : userId.slice(1, userId.indexOf(':'));
    this.registerUser(userId, { password: typeof body.password === 'string' ? body.password : null, admin: body.admin === true, displayName, externalIds: ids ?? [] });
    return [201, this.userInfo(this.users.get(userId)!)];
  }

  /** RegistrationHandler.register_user: the account, then _join_rooms for auto_join_rooms (failures are only logged). */
  private registerUser(userId: string, fields: { password: string | null; admin: boolean; displayName: string | null; externalIds?: User['externalIds'] }): void {
    this.users.set(userId, { userId, creationTs: Date.now(), ...fields, externalIds: fields.externalIds ?? [] });
    for (const alias of this.autoJoinRooms) {
      try {
        const roomId = this.aliases.get(alias);
        if (!roomId) throw new MatrixError(404, 'M_NOT_FOUND', `Room alias ${alias} not found`);
        const room = this.mustRoom(roomId);
        // "By default, we consider the room as requiring an invite if the homeserver is in the room (unless told otherwise by the join rules)."
        const hostJoined = [...room.members].some((m) => m.endsWith(`:${this.serverName}`));
        const joinRule = room.state.get(stateKey('m.room.join_rules', ''))?.content.join_rule as string | undefined;
        const requiresInvite = hostJoined && joinRule !== undefined && joinRule !== 'public';
        if (requiresInvite) {
          if (!this.autoJoinUserId) throw new Error('auto_join_mxid_localpart is not set');
          this.updateMembership(room, this.autoJoinUserId, userId, 'invite');
        }
        this.updateMembership(room, userId, userId, 'join');
      } catch (err) {
        this.autoJoinFailures.push({ userId, alias, error: err instanceof Error ? err.message : String(err) });
      }
    }
  }

  /** What Synapse logs as "Failed to join new user to …" for each auto-join that did not work. */
  readonly autoJoinFailures: { userId: string; alias: string; error: string }[] = [];

  private userIdForExternalId(authProvider: string, externalId: string): string | undefined {
    return [...this.users.values()].find((u) => u.externalIds.some((e) => e.auth_provider === authProvider && e.external_id === externalId))?.userId;
  }

  /** UserID.from_string, then hs.is_mine. */
  private localUserId(raw: string, notMine: string): string {
    if (!USER_ID.test(raw)) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid user id: ${raw}`);
    if (raw.slice(raw.indexOf(':') + 1) !== this.serverName) throw new MatrixError(400, 'M_UNKNOWN', notMine);
    return raw;
  }

  /** AdminHandler.get_user's fields this app reads. */
  private userInfo(user: User): Record<string, unknown> {
    return { name: user.userId, displayname: user.displayName, admin: user.admin, deactivated: false, external_ids: user.externalIds.map((e) => ({ ...e })), creation_ts: user.creationTs };
  }

  /** Synapse's PurgeHistoryRestServlet: purges non-state events before a point, keeping the newest event. */
  private purgeHistory(roomId: string, raw: unknown): [number, unknown] {
    const room = this.mustRoom(roomId);
    const body = asObject(raw);
    const deleteLocal = Boolean(body.delete_local_events ?? false);
    let upTo: number;
    if (typeof body.purge_up_to_event_id === 'string') {
      const event = room.timeline.find((e) => e.event_id === body.purge_up_to_event_id);
      if (!event) throw new MatrixError(404, 'M_NOT_FOUND', 'Event not found');
      upTo = event.origin_server_ts;
    } else if (typeof body.purge_up_to_ts === 'number') {
      upTo = body.purge_up_to_ts;
    } else {
      throw new MatrixError(400, 'M_MISSING_PARAM', 'must specify purge_up_to_event_id or purge_up_to_ts');
    }
    // Synapse looks for the last event before the cut-off and answers 404 when the room has none.
    if (!room.timeline.some((e) => e.origin_server_ts < upTo)) throw new MatrixError(404, 'M_NOT_FOUND', 'there is no event to be purged');
    const newest = room.timeline[room.timeline.length - 1];
    const local = (sender: string) => sender.endsWith(`:${this.serverName}`);
    for (let i = room.timeline.length - 1; i >= 0; i--) {
      const e = room.timeline[i];
      if (e === newest || e.state_key !== undefined || e.origin_server_ts >= upTo) continue;
      if (local(e.sender) && !deleteLocal) continue;
      room.timeline.splice(i, 1);
    }
    const purgeId = random(12);
    this.purges.set(purgeId, 'complete');
    return [200, { purge_id: purgeId }];
  }
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', reject);
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (!text) return resolve({});
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new MatrixError(400, 'M_NOT_JSON', 'Content not JSON.'));
      }
    });
  });
}

function asObject(value: unknown): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new MatrixError(400, 'M_BAD_JSON', 'Content must be a JSON object.');
  return value as Record<string, unknown>;
}

function asObjectOrUndefined(value: unknown): Record<string, unknown> | undefined {
  return value === undefined ? undefined : asObject(value);
}
