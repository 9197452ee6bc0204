import { isTimeoutError } from '../timeout';

/**
 * Synapse answers client-API calls in milliseconds and /messages pages of 100 in well under a
 * second; 10 s bounds a stuck homeserver so a tool reports "backend unavailable" long before an
 * MCP client gives up, and inside the ALB's idle timeout and the 30 s shutdown drain.
 */
export const MATRIX_TIMEOUT_MS = 10_000;
/** A rate-limited call is retried once when Synapse asks for at most this wait. */
const MAX_RETRY_AFTER_MS = 2_000;

/** A Matrix error answer: the spec's `{errcode, error}` body with the HTTP status. */
export class MatrixApiError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'MatrixApiError';
  }
}

/** The homeserver could not be reached or did not answer in time. */
export class MatrixUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MatrixUnavailableError';
  }
}

interface RequestOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  api?: 'client' | 'synapse-admin';
}

export interface MatrixClientOptions {
  readonly baseUrl: string;
  readonly accessToken: string;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

/** The Matrix client-server API with one access token (the bot's), explicit timeouts and spec errors. */
export class MatrixClient {
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly options: MatrixClientOptions) {
    this.timeoutMs = options.timeoutMs ?? MATRIX_TIMEOUT_MS;
    this.fetchFn = options.fetch ?? fetch;
  }

  /**
   * `segments` are URL-encoded one by one, so ids like `!a:b` and `$x` are safe in paths.
   * `api` picks the client-server API (default) or Synapse's admin API.
   */
  async request<T>(method: 'GET' | 'PUT' | 'POST', segments: string[], options: RequestOptions = {}): Promise<T> {
    try {
      return await this.once<T>(method, segments, options);
    } catch (error) {
      if (error instanceof MatrixApiError && error.errcode === 'M_LIMIT_EXCEEDED' && (error.retryAfterMs ?? Infinity) <= MAX_RETRY_AFTER_MS) {
        await new Promise((resolve) => setTimeout(resolve, error.retryAfterMs));
        return this.once<T>(method, segments, options);
      }
      throw error;
    }
  }

  private async once<T>(method: string, segments: string[], options: RequestOptions): Promise<T> {
    const prefix = options.api === 'synapse-admin' ? '/_synapse/admin' : '/_matrix/client/v3';
    const url = new URL(`${this.options.baseUrl}${prefix}/${segments.map(encodeURIComponent).join('/')}`);
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(key, value);
    let response: Response;
    try {
      response = await this.fetchFn(url, {
        method,
        headers: { authorization: `Bearer ${this.options.accessToken}`, ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new MatrixUnavailableError(isTimeoutError(error) ? `Synapse did not answer within ${this.timeoutMs / 1000} s` : 'Synapse is unreachable');
    }
    const text = await response.text();
    let body: Record<string, unknown> | undefined;
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      body = undefined;
    }
    if (!response.ok) {
      if (!body || typeof body.errcode !== 'string') throw new MatrixUnavailableError(`Synapse answered HTTP ${response.status}`);
      throw new MatrixApiError(response.status, body.errcode, String(body.error ?? body.errcode), typeof body.retry_after_ms === 'number' ? body.retry_after_ms : undefined);
    }
    if (!body) throw new MatrixUnavailableError('Synapse answered with a body that is not JSON');
    return body as T;
  }
}
