import { MatrixClient, MatrixHttpError } from '../../chat-clients/matrix-client';
import { SynapseAdminHttp } from '../shared/synapse-server-admins';

export { MatrixHttpError } from '../../chat-clients/matrix-client';

/** A state event as GET /rooms/{roomId}/state returns it. */
export interface StateEvent {
  readonly type: string;
  readonly state_key: string;
  readonly sender: string;
  readonly content: Record<string, unknown>;
}

export interface SynapseUser {
  readonly name: string;
  readonly deactivated?: boolean;
  readonly external_ids?: readonly { readonly auth_provider: string; readonly external_id: string }[];
}

/** The answer of the external-id lookup: the user, nobody, or "this Synapse has no such endpoint" (before 1.68). */
export type ExternalIdLookup = { readonly userId: string } | { readonly userId: undefined } | 'unsupported';

const enc = encodeURIComponent;

/**
 * The client-server and admin endpoints the membership reconciler calls, as the admin bot
 * (a server admin, joined to every chat room with power 100, lambda/synapse-bootstrap).
 */
export class SynapseMembershipClient extends MatrixClient {
  constructor(
    options: { readonly baseUrl: string; readonly timeoutMs?: number },
    private readonly token: string,
  ) {
    if (!/^https?:\/\/[^/]+/.test(options.baseUrl)) throw new Error(`the Synapse URL must be an absolute http(s) URL, got "${options.baseUrl}"`);
    if (!token) throw new Error('the admin bot token is empty');
    super(options);
  }

  me(): Promise<{ user_id: string }> {
    return this.whoami(this.token);
  }

  roomIdForAlias(alias: string): Promise<string | undefined> {
    return this.resolveAlias(this.token, alias);
  }

  /** The room's whole current state: every membership (join, invite, leave, ban) and the power levels, in one read. */
  roomState(roomId: string): Promise<StateEvent[]> {
    return this.request<StateEvent[]>('GET', `/_matrix/client/v3/rooms/${enc(roomId)}/state`, { token: this.token });
  }

  /**
   * GET /_synapse/admin/v1/auth_providers/{provider}/users/{externalId} (Synapse 1.68+). Synapse
   * answers a path it does not know with M_UNRECOGNIZED (400 before 1.7x, 404 since).
   */
  async userByExternalId(authProvider: string, externalId: string): Promise<ExternalIdLookup> {
    try {
      const { user_id } = await this.request<{ user_id: string }>('GET', `/_synapse/admin/v1/auth_providers/${enc(authProvider)}/users/${enc(externalId)}`, { token: this.token });
      return { userId: user_id };
    } catch (err) {
      if (err instanceof MatrixHttpError && err.errcode === 'M_UNRECOGNIZED') return 'unsupported';
      if (err instanceof MatrixHttpError && err.status === 404) return { userId: undefined };
      throw err;
    }
  }

  /** GET /_synapse/admin/v2/users/{userId}, or undefined when there is no such account. */
  async user(userId: string): Promise<SynapseUser | undefined> {
    try {
      return await this.request<SynapseUser>('GET', `/_synapse/admin/v2/users/${enc(userId)}`, { token: this.token });
    } catch (err) {
      if (err instanceof MatrixHttpError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** POST /_synapse/admin/v1/join/{roomIdOrAlias}: invites (non-public rooms) as the bot, then joins as the user. */
  async adminJoin(roomIdOrAlias: string, userId: string): Promise<void> {
    await this.request('POST', `/_synapse/admin/v1/join/${enc(roomIdOrAlias)}`, { token: this.token, body: { user_id: userId } });
  }

  async kick(roomId: string, userId: string, reason: string): Promise<void> {
    await this.request('POST', `/_matrix/client/v3/rooms/${enc(roomId)}/kick`, { token: this.token, body: { user_id: userId, reason } });
  }

  /** The server-admin flag calls (lambda/shared/synapse-server-admins.ts), with the same URL and token. */
  serverAdmins(): SynapseAdminHttp {
    return new SynapseAdminHttp({ baseUrl: this.baseUrl, accessToken: this.token });
  }

  /**
   * The same URL and token as the default of every call, with the MCP server's settings (10 s, one
   * retry of a short rate limit): the moderation expiry (chat-clients/matrix-moderation-expiry.ts) works on it.
   */
  moderation(): MatrixClient {
    return new MatrixClient({ baseUrl: this.baseUrl, accessToken: this.token, timeoutMs: 10_000, rateLimitRetryMaxMs: 2_000 });
  }

  powerLevels(roomId: string): Promise<Record<string, unknown>> {
    return this.request<Record<string, unknown>>('GET', `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.power_levels/`, { token: this.token });
  }

  putPowerLevels(roomId: string, content: Record<string, unknown>): Promise<string> {
    return this.putState(this.token, roomId, 'm.room.power_levels', content);
  }
}
