import { fetchWithTimeout, HttpAnswer, HttpError } from './http';

/**
 * One entry of a GraphQL response's `errors`, as Hasura v2 shapes it:
 * `{ message, extensions: { path: "$.selectionSet...", code, internal? } }`. The errors it maps
 * itself (Postgres classes 22 and 23: mkTxErrorHandler's err400) never carry `internal`, so the
 * code and message are all there is to go on; only "database query error" has it, in dev mode.
 */
export interface HasuraErrorEntry {
  message: string;
  extensions?: {
    code?: string;
    path?: string;
    internal?: unknown;
  };
}

/** Hasura answered a GraphQL request with `errors` (or a request-level `{error, code}`). Callers map it with the context they have. */
export class HasuraGraphQLError extends Error {
  constructor(
    readonly operationName: string,
    readonly errors: HasuraErrorEntry[],
  ) {
    super(`Hasura ${operationName}: ${errors.map((e) => `${e.extensions?.code ?? 'error'}: ${e.message}`).join('; ')}`);
    this.name = 'HasuraGraphQLError';
  }

  get code(): string | undefined {
    return this.errors[0]?.extensions?.code;
  }

  get message0(): string {
    return this.errors[0]?.message ?? '';
  }
}

/** One entry of Hasura's inconsistent-objects list (get_inconsistent_metadata, reload_metadata, 400 internal). */
export interface InconsistentObject {
  readonly type?: string;
  readonly name?: string;
  readonly reason?: string;
  readonly definition?: unknown;
}

/** A non-2xx answer of the metadata API, with Hasura's error document. */
export class HasuraApiError extends HttpError {
  constructor(
    readonly operation: string,
    status: number,
    readonly code: string | undefined,
    readonly hasuraError: string | undefined,
    readonly internal: unknown,
    message: string,
  ) {
    super('status', message, { status });
    this.name = 'HasuraApiError';
  }

  override get status(): number {
    return this.details.status!;
  }
}

/** Where the GraphQL requests get their ID token; a token Hasura rejects is invalidated and renewed once. */
export interface IdTokenSource {
  idToken(): Promise<string>;
  invalidate(): void;
}

export interface HasuraClientOptions {
  /**
   * The GraphQL endpoint, e.g. http://hasura.internal:8080/v1/graphql. The engine serves /healthz
   * and /v1/metadata on the same origin, so a bare origin is enough for those.
   */
  readonly endpoint: string;
  /**
   * For the metadata API.
   * @default - metadata() refuses to run
   */
  readonly adminSecret?: string;
  /**
   * For GraphQL requests, sent as `Authorization: Bearer`.
   * @default - request() refuses to run
   */
  readonly tokens?: IdTokenSource;
  /**
   * Per request (not /healthz, which has its own short limit).
   * @default - 10 s for GraphQL (our largest query answers in tens of milliseconds), 30 s for the
   * metadata API (replace_metadata rebuilds the whole schema cache before it answers)
   */
  readonly timeoutMs?: number;
  /**
   * Epoch ms after which no request may run: each request's timeout is cut to what is left,
   * so a deploy step fails with its own message before its Lambda timeout.
   * @default - each request gets its full timeout
   */
  readonly deadline?: number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

const GRAPHQL_TIMEOUT_MS = 10_000;
const METADATA_TIMEOUT_MS = 30_000;

/**
 * Hasura GraphQL Engine's three endpoints: GraphQL as a role of a Cognito ID token, the metadata
 * API with the admin secret (https://hasura.io/docs/latest/api-reference/metadata-api/index/) and
 * /healthz. Every request carries an explicit timeout; no answer is an HttpError.
 */
export class HasuraClient {
  private readonly origin: string;

  constructor(private readonly options: HasuraClientOptions) {
    let url: URL;
    try {
      url = new URL(options.endpoint);
    } catch {
      throw new Error(`the Hasura base URL is not a URL: ${options.endpoint}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`the Hasura base URL must be http(s): ${options.endpoint}`);
    if (options.adminSecret === '') throw new Error('the Hasura admin secret is empty');
    this.origin = url.origin;
  }

  /**
   * The HTTP status of GET /healthz (200 is OK, or WARN for inconsistent metadata: the
   * engine serves either way), or undefined when nothing answered. A short timeout:
   * this is polled while the engine starts.
   */
  async healthStatus(timeoutMs = 5_000): Promise<number | undefined> {
    try {
      // Past the deadline this counts as no answer, and the caller's wait ends with its own message.
      const res = await this.fetch(`${this.origin}/healthz`, { what: 'GET /healthz', timeoutMs, unanswered: () => 'GET /healthz: no answer' });
      return res.status;
    } catch {
      return undefined;
    }
  }

  /** POSTs one metadata API call; resolves with the parsed 2xx body, throws HasuraApiError otherwise. */
  async metadata<T = unknown>(body: { readonly type: string } & Record<string, unknown>): Promise<T> {
    if (this.options.adminSecret === undefined) throw new Error(`${body.type}: this Hasura client has no admin secret for the metadata API`);
    const url = `${this.origin}/v1/metadata`;
    const res = await this.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hasura-admin-secret': this.options.adminSecret },
      body: JSON.stringify(body),
      what: body.type,
      timeoutMs: this.options.timeoutMs ?? METADATA_TIMEOUT_MS,
      unanswered: (why) => `${body.type}: could not reach Hasura at ${url}: ${why.failure === 'timeout' ? `no answer within ${why.timeoutMs} ms` : why.reason}`,
    });
    if (res.ok) {
      if (res.json === undefined && res.text)
        throw new HasuraApiError(body.type, res.status, undefined, undefined, undefined, `${body.type}: Hasura answered ${res.status} with a body that is not JSON`);
      return res.json as T;
    }
    const doc = (res.json ?? {}) as { code?: string; error?: string; path?: string; internal?: unknown };
    throw new HasuraApiError(body.type, res.status, doc.code, doc.error, doc.internal, describeFailure(body.type, res.status, doc, res.text));
  }

  /**
   * One GraphQL operation as `role` (sent as x-hasura-role; one of the ID token's allowed roles).
   * A token Hasura rejects as invalid (e.g. expired early because the clocks disagree) is renewed
   * once and the request repeated.
   */
  async request<T>(role: string, operationName: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
    try {
      return await this.graphql<T>(role, operationName, query, variables);
    } catch (error) {
      if (error instanceof HasuraGraphQLError && error.code === 'invalid-jwt') {
        this.options.tokens!.invalidate();
        return this.graphql<T>(role, operationName, query, variables);
      }
      throw error;
    }
  }

  private async graphql<T>(role: string, operationName: string, query: string, variables: Record<string, unknown>): Promise<T> {
    if (!this.options.tokens) throw new Error(`${operationName}: this Hasura client has no ID-token source for GraphQL`);
    const token = await this.options.tokens.idToken();
    const res = await this.fetch(this.options.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-hasura-role': role },
      body: JSON.stringify({ query, variables, operationName }),
      what: operationName,
      timeoutMs: this.options.timeoutMs ?? GRAPHQL_TIMEOUT_MS,
      unanswered: (why) => (why.failure === 'timeout' ? `Hasura did not answer within ${why.timeoutMs / 1000} s` : 'Hasura is unreachable'),
    });
    const body = res.json as { data?: T | null; errors?: HasuraErrorEntry[]; error?: string; code?: string; path?: string } | undefined;
    // GraphQL errors arrive with 200; request-level errors (bad JSON, bad headers) as 4xx {error, code, path}.
    if (body?.errors?.length) throw new HasuraGraphQLError(operationName, body.errors);
    if (!res.ok || typeof body !== 'object' || body === null) {
      if (body?.code) throw new HasuraGraphQLError(operationName, [{ message: body.error ?? `HTTP ${res.status}`, extensions: { code: body.code, path: body.path } }]);
      throw new HttpError(res.ok ? 'invalid-response' : 'status', `Hasura answered HTTP ${res.status}`, { status: res.status });
    }
    if (body.data === undefined || body.data === null) throw new HttpError('invalid-response', 'Hasura answered without data', { status: res.status });
    return body.data;
  }

  private fetch(
    url: string,
    call: { method?: string; headers?: Record<string, string>; body?: string; what: string; timeoutMs: number; unanswered: Parameters<typeof fetchWithTimeout>[1]['unanswered'] },
  ): Promise<HttpAnswer> {
    return fetchWithTimeout(url, { ...call, deadline: this.options.deadline, fetch: this.options.fetch });
  }
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
