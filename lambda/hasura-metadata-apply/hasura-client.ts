import { callTimeoutMs } from '../../chat-domain/deploy-step-limits';

/**
 * A small client for the two Hasura endpoints the applier needs: GET /healthz and
 * POST /v1/metadata (https://hasura.io/docs/latest/api-reference/metadata-api/index/).
 * Every request carries an explicit timeout.
 */

/** One entry of Hasura's inconsistent-objects list (get_inconsistent_metadata, reload_metadata, 400 internal). */
export interface InconsistentObject {
  readonly type?: string;
  readonly name?: string;
  readonly reason?: string;
  readonly definition?: unknown;
}

/** A non-2xx answer of the metadata API, with Hasura's error document. */
export class HasuraApiError extends Error {
  constructor(
    readonly operation: string,
    readonly status: number,
    readonly code: string | undefined,
    readonly hasuraError: string | undefined,
    readonly internal: unknown,
    message: string,
  ) {
    super(message);
    this.name = 'HasuraApiError';
  }
}

/** The engine could not be reached (connection refused, DNS, timeout). */
export class HasuraUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HasuraUnreachableError';
  }
}

export interface HasuraClientOptions {
  /** Base URL of the engine, e.g. http://hasura.phenom-development.internal:8080 (no path). */
  readonly baseUrl: string;
  readonly adminSecret: string;
  /**
   * Per-request timeout. replace_metadata rebuilds the whole schema cache before it
   * answers, which takes seconds on a small instance; 30 s leaves room for a cold engine.
   */
  readonly requestTimeoutMs?: number;
  /**
   * Epoch ms after which no request may run: each request's timeout is cut to what is left,
   * so the deploy step fails with its own message before its Lambda timeout.
   * @default - each request gets its full timeout
   */
  readonly deadline?: number;
}

export class HasuraClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: HasuraClientOptions) {
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch {
      throw new Error(`the Hasura base URL is not a URL: ${options.baseUrl}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`the Hasura base URL must be http(s): ${options.baseUrl}`);
    if (!options.adminSecret) throw new Error('the Hasura admin secret is empty');
    this.baseUrl = url.origin;
    this.timeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  /**
   * The HTTP status of GET /healthz (200 is OK, or WARN for inconsistent metadata: the
   * engine serves either way), or undefined when nothing answered. A short timeout:
   * this is polled while the engine starts.
   */
  async healthStatus(timeoutMs = 5_000): Promise<number | undefined> {
    try {
      // Past the deadline this counts as no answer, and the caller's wait ends with its own message.
      const limitMs = callTimeoutMs(timeoutMs, this.options.deadline, 'GET /healthz');
      const res = await fetch(`${this.baseUrl}/healthz`, { signal: AbortSignal.timeout(limitMs) });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return undefined;
    }
  }

  /** POSTs one metadata API call; resolves with the parsed 2xx body, throws HasuraApiError otherwise. */
  async metadata<T = unknown>(body: { readonly type: string } & Record<string, unknown>): Promise<T> {
    const limitMs = callTimeoutMs(this.timeoutMs, this.options.deadline, body.type);
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}/v1/metadata`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hasura-admin-secret': this.options.adminSecret },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(limitMs),
      });
    } catch (err) {
      const cause = err as Error;
      const why = cause.name === 'TimeoutError' ? `no answer within ${limitMs} ms` : `${cause.message}${describeCause(cause)}`;
      throw new HasuraUnreachableError(`${body.type}: could not reach Hasura at ${this.baseUrl}/v1/metadata: ${why}`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (res.ok) {
      if (parsed === undefined && text) throw new HasuraApiError(body.type, res.status, undefined, undefined, undefined, `${body.type}: Hasura answered ${res.status} with a body that is not JSON`);
      return parsed as T;
    }
    const doc = (parsed ?? {}) as { code?: string; error?: string; path?: string; internal?: unknown };
    throw new HasuraApiError(body.type, res.status, doc.code, doc.error, doc.internal, describeFailure(body.type, res.status, doc, text));
  }
}

function describeCause(err: Error): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause ? ` (${cause.code ?? cause.message ?? 'unknown cause'})` : '';
}

/** Renders Hasura's inconsistent objects one per line: "<name or type>: <reason>". */
export function formatInconsistencies(objects: readonly InconsistentObject[]): string {
  return objects.map((o) => `  - ${o.name ?? o.type ?? 'object'}: ${o.reason ?? 'no reason given'}`).join('\n');
}

function describeFailure(operation: string, status: number, doc: { code?: string; error?: string; path?: string; internal?: unknown }, raw: string): string {
  const where = doc.path ? ` at ${doc.path}` : '';
  if (status === 400 && Array.isArray(doc.internal) && doc.internal.length > 0) {
    const objects = doc.internal as InconsistentObject[];
    return `${operation}: Hasura rejected the metadata as inconsistent (${doc.error ?? 'inconsistent metadata'}); ${objects.length} inconsistent object(s):\n${formatInconsistencies(objects)}`;
  }
  if (status === 409) {
    return `${operation}: Hasura answered 409 conflict (${doc.error ?? 'conflict'})${where}: the metadata changed while it was being applied (another deploy, or someone using the metadata API); re-run the deploy`;
  }
  if (status === 401 || status === 403 || doc.code === 'access-denied') {
    return `${operation}: Hasura refused the admin secret (${status} ${doc.code ?? ''}: ${doc.error ?? ''}); check that the engine's HASURA_GRAPHQL_ADMIN_SECRET matches the secret in Secrets Manager`;
  }
  if (status === 404) {
    return `${operation}: ${doc.error ?? 'not found'} (404): the metadata API is not reachable at this address; an existing engine must serve /v1/metadata to the applier (from inside the VPC)`;
  }
  if (status === 400) {
    return `${operation}: Hasura answered 400 ${doc.code ?? 'bad request'}: ${doc.error ?? (raw.slice(0, 500) || 'no error text')}${where}`;
  }
  return `${operation}: Hasura answered ${status}${doc.code ? ` ${doc.code}` : ''}: ${doc.error ?? (raw.slice(0, 500) || 'no body')}${where}`;
}
