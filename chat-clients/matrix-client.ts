import { createHmac } from 'node:crypto';
import { fetchWithTimeout, HttpError } from './http';

/** A non-2xx answer from the homeserver, with the spec's errcode when it sent one. */
export class MatrixHttpError extends HttpError {
  constructor(
    status: number,
    readonly errcode: string | undefined,
    readonly serverMessage: string,
    readonly method: string,
    readonly path: string,
    /** Synapse's `retry_after_ms` of an M_LIMIT_EXCEEDED answer. */
    readonly retryAfterMs?: number,
  ) {
    super('status', `${method} ${path} answered ${status}${errcode ? ` ${errcode}` : ''}: ${serverMessage}`, { status });
    this.name = 'MatrixHttpError';
  }

  override get status(): number {
    return this.details.status!;
  }
}

export interface LoginResponse {
  readonly user_id: string;
  readonly access_token: string;
  readonly device_id?: string;
}

export interface MatrixClientOptions {
  /** e.g. http://synapse.phenom-development.internal:8008 */
  readonly baseUrl: string;
  /**
   * The token of every call that does not pass its own.
   * @default - calls without a token go unauthenticated
   */
  readonly accessToken?: string;
  /**
   * Per request. Every call is a small JSON request to a homeserver in the same VPC; 15 s is far
   * above its normal latency yet leaves a deploy step time to report a clear error.
   * @default 15000
   */
  readonly timeoutMs?: number;
  /**
   * Epoch ms after which no request may run: each request's timeout is cut to what is left.
   * @default - every request gets its full timeout
   */
  readonly deadline?: number;
  /**
   * An M_LIMIT_EXCEEDED answer is retried once when Synapse asks to wait at most this long.
   * @default 0 - never retried
   */
  readonly rateLimitRetryMaxMs?: number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

export interface MatrixRequestOptions {
  /** @default - the client's accessToken */
  readonly token?: string;
  readonly body?: unknown;
  /** Query parameters; undefined values are left out. */
  readonly query?: Record<string, string | undefined>;
  /** For a path given as segments: the client-server API (default) or Synapse's admin API. */
  readonly api?: 'client' | 'synapse-admin';
}

/**
 * The shared-secret registration MAC exactly as Synapse computes it:
 * HMAC-SHA1(key = shared secret, nonce \0 username \0 password \0 "admin"|"notadmin"), hex.
 */
export function registrationMac(sharedSecret: string, nonce: string, username: string, password: string, admin: boolean): string {
  return createHmac('sha1', Buffer.from(sharedSecret, 'utf8'))
    .update(Buffer.from(nonce, 'utf8'))
    .update('\0')
    .update(Buffer.from(username, 'utf8'))
    .update('\0')
    .update(Buffer.from(password, 'utf8'))
    .update('\0')
    .update(admin ? 'admin' : 'notadmin')
    .digest('hex');
}

const enc = encodeURIComponent;
const API_PREFIX = { client: '/_matrix/client/v3', 'synapse-admin': '/_synapse/admin' } as const;

/**
 * The Matrix client-server API and Synapse's admin API, for the deploy steps, the scheduled
 * Lambdas and the MCP server alike: explicit timeouts, spec errors (MatrixHttpError), and HttpError
 * when the homeserver did not answer.
 */
export class MatrixClient {
  readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: MatrixClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  /** True when Synapse's /health answers 200; false while it is starting or unreachable. */
  async isHealthy(): Promise<boolean> {
    try {
      return (await this.fetch('GET', '/health', {})).ok;
    } catch {
      // Past the deadline this counts as no answer too, and the caller's wait ends with its own message.
      return false;
    }
  }

  /** Registers a user with the shared-secret admin API (GET a single-use nonce, then POST with the MAC). */
  async registerWithSharedSecret(sharedSecret: string, user: { username: string; password: string; displayName?: string; admin: boolean }): Promise<LoginResponse> {
    const { nonce } = await this.request<{ nonce: string }>('GET', '/_synapse/admin/v1/register');
    return this.request<LoginResponse>('POST', '/_synapse/admin/v1/register', {
      body: {
        nonce,
        username: user.username,
        password: user.password,
        displayname: user.displayName,
        // Synapse signs admin vs notadmin, so the flag sent must be the one in the MAC.
        admin: user.admin,
        mac: registrationMac(sharedSecret, nonce, user.username, user.password, user.admin),
      },
    });
  }

  loginWithPassword(username: string, password: string): Promise<LoginResponse> {
    return this.request<LoginResponse>('POST', '/_matrix/client/v3/login', {
      body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: username }, password, initial_device_display_name: 'phenom-chat bootstrap' },
    });
  }

  whoami(token?: string): Promise<{ user_id: string; device_id?: string }> {
    return this.request('GET', '/_matrix/client/v3/account/whoami', { token });
  }

  async isServerAdmin(token: string, userId: string): Promise<boolean> {
    const { admin } = await this.request<{ admin: boolean }>('GET', `/_synapse/admin/v1/users/${enc(userId)}/admin`, { token });
    return admin;
  }

  /** The room an alias points at, or undefined when the alias does not exist. */
  async resolveAlias(token: string | undefined, alias: string): Promise<string | undefined> {
    try {
      const { room_id } = await this.request<{ room_id: string }>('GET', `/_matrix/client/v3/directory/room/${enc(alias)}`, { token });
      return room_id;
    } catch (err) {
      if (err instanceof MatrixHttpError && err.status === 404) return undefined;
      throw err;
    }
  }

  async createRoom(token: string, body: Record<string, unknown>): Promise<string> {
    const { room_id } = await this.request<{ room_id: string }>('POST', '/_matrix/client/v3/createRoom', { token, body });
    return room_id;
  }

  /** A state event's content, or undefined when the room has no such state. */
  async getState<T extends object>(token: string, roomId: string, type: string, stateKey = ''): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', `/_matrix/client/v3/rooms/${enc(roomId)}/state/${enc(type)}/${enc(stateKey)}`, { token });
    } catch (err) {
      if (err instanceof MatrixHttpError && err.status === 404) return undefined;
      throw err;
    }
  }

  /**
   * Synapse's admin API: the highest-powered local member of the room raises `userId` to its own level
   * and invites it (unless the room is public). Lets the bot take over a room it is not in, such as an
   * adopted server's existing room.
   */
  async makeRoomAdmin(token: string, roomId: string, userId: string): Promise<void> {
    await this.request('POST', `/_synapse/admin/v1/rooms/${enc(roomId)}/make_room_admin`, { token, body: { user_id: userId } });
  }

  async joinRoom(token: string, roomId: string): Promise<void> {
    await this.request('POST', `/_matrix/client/v3/rooms/${enc(roomId)}/join`, { token, body: {} });
  }

  async putState(token: string | undefined, roomId: string, type: string, content: object, stateKey = ''): Promise<string> {
    const { event_id } = await this.request<{ event_id: string }>('PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/state/${enc(type)}/${enc(stateKey)}`, {
      token,
      body: content,
    });
    return event_id;
  }

  /**
   * One API call. `path` is either a path as sent (already encoded) or segments under `options.api`,
   * URL-encoded one by one, so ids like `!a:b` and `$x` are safe in paths.
   */
  async request<T>(method: string, path: string | readonly string[], options: MatrixRequestOptions = {}): Promise<T> {
    const fullPath = typeof path === 'string' ? path : `${API_PREFIX[options.api ?? 'client']}/${path.map(enc).join('/')}`;
    try {
      return await this.once<T>(method, fullPath, options);
    } catch (error) {
      const maxMs = this.options.rateLimitRetryMaxMs ?? 0;
      if (error instanceof MatrixHttpError && error.errcode === 'M_LIMIT_EXCEEDED' && (error.retryAfterMs ?? Infinity) <= maxMs) {
        await new Promise((resolve) => setTimeout(resolve, error.retryAfterMs));
        return this.once<T>(method, fullPath, options);
      }
      throw error;
    }
  }

  private async once<T>(method: string, path: string, options: MatrixRequestOptions): Promise<T> {
    const res = await this.fetch(method, path, options);
    const json = res.json ?? (res.text ? undefined : {});
    if (!res.ok) {
      const e = (json ?? {}) as { errcode?: unknown; error?: unknown; retry_after_ms?: unknown };
      const errcode = typeof e.errcode === 'string' ? e.errcode : undefined;
      const serverMessage = typeof e.error === 'string' ? e.error : (errcode ?? res.text.slice(0, 200));
      throw new MatrixHttpError(res.status, errcode, serverMessage, method, path, typeof e.retry_after_ms === 'number' ? e.retry_after_ms : undefined);
    }
    if (json === undefined || typeof json !== 'object' || json === null) {
      throw new HttpError('invalid-response', `${method} ${path}: the homeserver answered ${res.status} with a body that is not JSON`, { status: res.status });
    }
    return json as T;
  }

  private fetch(method: string, path: string, options: MatrixRequestOptions) {
    const token = options.token ?? this.options.accessToken;
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(key, value);
    const what = `${method} ${path}${url.search}`;
    return fetchWithTimeout(url, {
      method,
      headers: {
        accept: 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      timeoutMs: this.timeoutMs,
      deadline: this.options.deadline,
      what,
      fetch: this.options.fetch,
      unanswered: ({ reason }) => `${what}: cannot reach the homeserver at ${this.baseUrl}: Synapse did not answer (${reason})`,
    });
  }
}
