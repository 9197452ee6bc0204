import { callTimeoutMs } from '../chat-domain/deploy-step-limits';

/**
 * Why an HTTP call failed: no answer in time, no connection at all, an answer with a non-2xx
 * status, or a 2xx answer that is not what the protocol promises (not JSON, no data).
 */
export type HttpFailure = 'timeout' | 'unreachable' | 'status' | 'invalid-response';

/**
 * The one error of every outbound HTTP call the Lambdas and the MCP server make. Callers branch on
 * `failure` and `status`; protocol clients subclass it for what their error documents add.
 */
export class HttpError extends Error {
  constructor(
    readonly failure: HttpFailure,
    message: string,
    readonly details: {
      /** The answer's HTTP status ('status' and 'invalid-response'). */
      readonly status?: number;
      /** The limit the call had ('timeout'). */
      readonly timeoutMs?: number;
      /** What fetch threw ('timeout' and 'unreachable'). */
      readonly cause?: unknown;
    } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'HttpError';
  }

  get status(): number | undefined {
    return this.details.status;
  }

  get timeoutMs(): number | undefined {
    return this.details.timeoutMs;
  }
}

/** What a call that got no answer is told: why, the limit it had and what fetch threw. */
export interface Unanswered {
  readonly failure: 'timeout' | 'unreachable';
  readonly timeoutMs: number;
  readonly cause: unknown;
  /** fetch's message with the socket error code underneath it, e.g. "fetch failed (ECONNREFUSED)". */
  readonly reason: string;
}

export interface TimedRequest extends Omit<RequestInit, 'signal'> {
  /** The whole call (connect, headers and body) is aborted after this long. */
  readonly timeoutMs: number;
  /**
   * Epoch ms after which no call may start; the timeout is cut to what is left (deploy steps).
   * @default - the full timeout
   */
  readonly deadline?: number;
  /** Names the call in the deadline error, e.g. "GET /health". */
  readonly what: string;
  /** The caller's sentence for a call that got no answer: each protocol names its own server. */
  readonly unanswered: (why: Unanswered) => string;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

export interface HttpAnswer {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: Headers;
  /** The whole body, read before the timeout ends. */
  readonly text: string;
  /** The body parsed as JSON; undefined when it is empty or not JSON. */
  readonly json: unknown;
}

/**
 * Whether fetch failed because its AbortSignal.timeout fired. Checked by name, not instanceof:
 * the DOMException may come from another realm (undici's), where `instanceof Error` is false.
 */
export function isTimeoutError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'TimeoutError';
}

function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = (error as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  return cause ? `${message} (${cause.code ?? cause.message ?? 'unknown cause'})` : message;
}

/**
 * fetch with a timeout over the whole exchange, the body read as text and parsed as JSON when it
 * is JSON. Any status is returned: what a non-2xx means is the protocol's business. A call with no
 * answer throws HttpError ('timeout' or 'unreachable') with the caller's message.
 */
export async function fetchWithTimeout(url: string | URL, request: TimedRequest): Promise<HttpAnswer> {
  const { timeoutMs: maxMs, deadline, what, unanswered, fetch: fetchFn = fetch, ...init } = request;
  const timeoutMs = callTimeoutMs(maxMs, deadline, what);
  let response: Response;
  let text: string;
  try {
    response = await fetchFn(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    text = await response.text();
  } catch (cause) {
    const failure = isTimeoutError(cause) ? 'timeout' : 'unreachable';
    throw new HttpError(failure, unanswered({ failure, timeoutMs, cause, reason: reasonOf(cause) }), { timeoutMs, cause });
  }
  return { status: response.status, ok: response.ok, headers: response.headers, text, json: jsonOrUndefined(text) };
}

/** A body's JSON, or undefined when it is empty or not JSON (the caller decides what that means). */
export function jsonOrUndefined(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
