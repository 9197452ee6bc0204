import { MatrixClient } from '../../chat-clients/matrix-client';

export { MatrixHttpError } from '../../chat-clients/matrix-client';

export type PurgeStatus = 'active' | 'complete' | 'failed';

export interface PurgeStatusResult {
  readonly status: PurgeStatus;
  /** Synapse's reason when the purge failed (newer Synapse versions only). */
  readonly error?: string;
}

export interface SynapseAdminClientOptions {
  /** The homeserver's base URL, e.g. http://homeserver.synapse.phenom-development.internal:8008. */
  readonly baseUrl: string;
  /** An access token of a Synapse server admin. */
  readonly accessToken: string;
  /**
   * Per-request timeout. Every call here is a quick lookup or the purge *start*
   * (Synapse runs the purge itself in the background), so 10 s is generous.
   * @default 10000
   */
  readonly requestTimeoutMs?: number;
}

const enc = encodeURIComponent;

/**
 * The Synapse admin endpoints the history purge needs, on the bootstrap's
 * MatrixClient (same request plumbing and MatrixHttpError), acting as one admin.
 */
export class SynapseAdminClient extends MatrixClient {
  private readonly token: string;

  constructor(options: SynapseAdminClientOptions) {
    if (!/^https?:\/\/[^/]+/.test(options.baseUrl)) throw new Error(`baseUrl must be an absolute http(s) URL, got "${options.baseUrl}"`);
    if (!options.accessToken) throw new Error('accessToken must not be empty');
    super({ baseUrl: options.baseUrl, timeoutMs: options.requestTimeoutMs ?? 10_000 });
    this.token = options.accessToken;
  }

  /** The room an alias points at, or undefined when the alias does not exist. */
  resolveRoomAlias(alias: string): Promise<string | undefined> {
    return this.resolveAlias(this.token, alias);
  }

  /** Every room the homeserver knows, through the paginated admin room list. */
  async listRoomIds(): Promise<string[]> {
    const ids: string[] = [];
    let from: number | undefined = 0;
    while (from !== undefined) {
      const page: { rooms?: { room_id: string }[]; next_batch?: number } = await this.request('GET', `/_synapse/admin/v1/rooms?from=${from}&limit=100`, { token: this.token });
      ids.push(...(page.rooms ?? []).map((r) => r.room_id));
      from = typeof page.next_batch === 'number' ? page.next_batch : undefined;
    }
    return ids;
  }

  /** Starts a purge of the room's events older than `purgeUpToTs` (ms since the epoch); returns its purge id. */
  async startPurgeHistory(roomId: string, purgeUpToTs: number, deleteLocalEvents: boolean): Promise<string> {
    const body = await this.request<{ purge_id?: unknown }>('POST', `/_synapse/admin/v1/purge_history/${enc(roomId)}`, {
      token: this.token,
      body: { delete_local_events: deleteLocalEvents, purge_up_to_ts: Math.floor(purgeUpToTs) },
    });
    if (typeof body.purge_id !== 'string') throw new Error(`purge_history for ${roomId} returned no purge_id`);
    return body.purge_id;
  }

  /** GET /_synapse/admin/v1/purge_history_status/{purge_id}. */
  async purgeStatus(purgeId: string): Promise<PurgeStatusResult> {
    const body = await this.request<{ status?: unknown; error?: unknown }>('GET', `/_synapse/admin/v1/purge_history_status/${enc(purgeId)}`, { token: this.token });
    if (body.status !== 'active' && body.status !== 'complete' && body.status !== 'failed') {
      throw new Error(`purge ${purgeId} has an unknown status ${JSON.stringify(body.status)}`);
    }
    return { status: body.status, ...(typeof body.error === 'string' ? { error: body.error } : {}) };
  }
}
