/**
 * The few Matrix / Synapse admin endpoints the history purge needs, over fetch.
 * Errors carry the HTTP status and Matrix errcode so the caller can tell
 * "nothing to purge" from a real failure.
 */

/** A non-2xx answer from the homeserver, with its Matrix error body when it has one. */
export class MatrixHttpError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string | undefined,
    readonly matrixError: string | undefined,
    readonly path: string,
  ) {
    super(`${path} answered HTTP ${status}${errcode ? ` ${errcode}` : ''}${matrixError ? `: ${matrixError}` : ''}`);
    this.name = 'MatrixHttpError';
  }
}

export type PurgeStatus = 'active' | 'complete' | 'failed';

export interface PurgeStatusResult {
  readonly status: PurgeStatus;
  /** Synapse's reason when the purge failed (newer Synapse versions only). */
  readonly error?: string;
}

export interface SynapseAdminClientOptions {
  /** The homeserver's base URL, e.g. http://synapse.internal:8008 (no trailing path). */
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

export class SynapseAdminClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: SynapseAdminClientOptions) {
    if (!/^https?:\/\/[^/]+/.test(options.baseUrl)) throw new Error(`baseUrl must be an absolute http(s) URL, got "${options.baseUrl}"`);
    if (!options.accessToken) throw new Error('accessToken must not be empty');
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.requestTimeoutMs ?? 10_000;
  }

  /** GET /_matrix/client/v3/directory/room/{alias} → the room id, or undefined when the alias does not exist. */
  async resolveRoomAlias(alias: string): Promise<string | undefined> {
    try {
      const body = await this.request<{ room_id?: unknown }>('GET', `/_matrix/client/v3/directory/room/${encodeURIComponent(alias)}`);
      if (typeof body.room_id !== 'string') throw new Error(`the directory answer for ${alias} has no room_id`);
      return body.room_id;
    } catch (err) {
      if (err instanceof MatrixHttpError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** Every room the homeserver knows, through the paginated admin room list. */
  async listRoomIds(): Promise<string[]> {
    const ids: string[] = [];
    let from: number | undefined = 0;
    while (from !== undefined) {
      const page: { rooms?: { room_id: string }[]; next_batch?: number } = await this.request('GET', `/_synapse/admin/v1/rooms?from=${from}&limit=100`);
      ids.push(...(page.rooms ?? []).map((r) => r.room_id));
      from = typeof page.next_batch === 'number' ? page.next_batch : undefined;
    }
    return ids;
  }

  /** Starts a purge of the room's events older than `purgeUpToTs` (ms since the epoch); returns its purge id. */
  async startPurgeHistory(roomId: string, purgeUpToTs: number, deleteLocalEvents: boolean): Promise<string> {
    const body = await this.request<{ purge_id?: unknown }>('POST', `/_synapse/admin/v1/purge_history/${encodeURIComponent(roomId)}`, {
      delete_local_events: deleteLocalEvents,
      purge_up_to_ts: Math.floor(purgeUpToTs),
    });
    if (typeof body.purge_id !== 'string') throw new Error(`purge_history for ${roomId} returned no purge_id`);
    return body.purge_id;
  }

  /** GET /_synapse/admin/v1/purge_history_status/{purge_id}. */
  async purgeStatus(purgeId: string): Promise<PurgeStatusResult> {
    const body = await this.request<{ status?: unknown; error?: unknown }>('GET', `/_synapse/admin/v1/purge_history_status/${encodeURIComponent(purgeId)}`);
    if (body.status !== 'active' && body.status !== 'complete' && body.status !== 'failed') {
      throw new Error(`purge ${purgeId} has an unknown status ${JSON.stringify(body.status)}`);
    }
    return { status: body.status, ...(typeof body.error === 'string' ? { error: body.error } : {}) };
  }

  private async request<T>(method: 'GET' | 'POST', path: string, json?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.options.accessToken}`,
          ...(json === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: json === undefined ? undefined : JSON.stringify(json),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const reason = err instanceof Error && err.name === 'TimeoutError' ? `timed out after ${this.timeoutMs} ms` : String(err);
      throw new Error(`${method} ${path}: the homeserver did not answer (${reason})`, { cause: err });
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      body = undefined;
    }
    if (!response.ok) {
      const matrix = (body ?? {}) as { errcode?: unknown; error?: unknown };
      throw new MatrixHttpError(
        response.status,
        typeof matrix.errcode === 'string' ? matrix.errcode : undefined,
        typeof matrix.error === 'string' ? matrix.error : undefined,
        `${method} ${path.split('?')[0]}`,
      );
    }
    if (body === undefined || typeof body !== 'object' || body === null) throw new Error(`${method} ${path}: the homeserver answered with non-JSON`);
    return body as T;
  }
}
