import { createHmac } from 'node:crypto';
import { callTimeoutMs } from '../../chat-domain/deploy-step-limits';

/** A non-2xx answer from the homeserver, with the spec's errcode when it sent one. */
export class MatrixHttpError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string | undefined,
    readonly serverMessage: string,
    readonly method: string,
    readonly path: string,
  ) {
    super(`${method} ${path} answered ${status}${errcode ? ` ${errcode}` : ''}: ${serverMessage}`);
    this.name = 'MatrixHttpError';
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
   * Per request. Every call here is a small JSON request to a homeserver in the
   * same VPC; 15 s is far above its normal latency yet leaves the bootstrap
   * Lambda time to report a clear error well within its own timeout.
   * @default 15000
   */
  readonly timeoutMs?: number;
  /**
   * Epoch ms after which no request may run: each request's timeout is cut to what is left.
   * @default - every request gets its full timeout
   */
  readonly deadline?: number;
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

/** The few Matrix client-server and Synapse admin endpoints the bootstrap uses. */
export class MatrixClient {
  readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly deadline?: number;

  constructor(options: MatrixClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.deadline = options.deadline;
  }

  /** True when Synapse's /health answers 200; false while it is starting or unreachable. */
  async isHealthy(): Promise<boolean> {
    try {
      const res = await fetch(`${this.baseUrl}/health`, { signal: AbortSignal.timeout(callTimeoutMs(this.timeoutMs, this.deadline, 'GET /health')) });
      return res.ok;
    } catch {
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

  whoami(token: string): Promise<{ user_id: string; device_id?: string }> {
    return this.request('GET', '/_matrix/client/v3/account/whoami', { token });
  }

  async isServerAdmin(token: string, userId: string): Promise<boolean> {
    const { admin } = await this.request<{ admin: boolean }>('GET', `/_synapse/admin/v1/users/${enc(userId)}/admin`, { token });
    return admin;
  }

  /** The room an alias points at, or undefined when the alias does not exist. */
  async resolveAlias(token: string, alias: string): Promise<string | undefined> {
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

  async putState(token: string, roomId: string, type: string, content: object, stateKey = ''): Promise<string> {
    const { event_id } = await this.request<{ event_id: string }>('PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/state/${enc(type)}/${enc(stateKey)}`, {
      token,
      body: content,
    });
    return event_id;
  }

  protected async request<T>(method: string, path: string, opts: { token?: string; body?: unknown } = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const timeoutMs = callTimeoutMs(this.timeoutMs, this.deadline, `${method} ${path}`);
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new Error(`${method} ${path}: cannot reach the homeserver at ${this.baseUrl}: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const e = (json ?? {}) as { errcode?: string; error?: string };
      throw new MatrixHttpError(res.status, e.errcode, e.error ?? text.slice(0, 200), method, path);
    }
    if (json === undefined || typeof json !== 'object') throw new Error(`${method} ${path}: the homeserver answered ${res.status} with a body that is not JSON`);
    return json as T;
  }
}
