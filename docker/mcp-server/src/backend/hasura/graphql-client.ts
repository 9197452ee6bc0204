import { isTimeoutError } from '../timeout';
import { ChatError } from '../types';
import { CognitoAuthError, CognitoTokenProvider } from './cognito-token';
import { HasuraErrorEntry, HasuraGraphQLError } from './errors';

/**
 * Hasura answers our largest query (100 messages with previews) in tens of milliseconds; 10 s
 * bounds a stuck engine or database so the tool reports "backend unavailable" well before an MCP
 * client gives up, and well inside the ALB's 120 s idle timeout and the 30 s shutdown drain.
 */
export const HASURA_TIMEOUT_MS = 10_000;

/**
 * The Hasura roles the agent account acts as (it is in chat-admin, contract C3): `chat_admin`, seed
 * 000's admin RBAC row, for reads and moderation; `user` to post, because chat_admin has no INSERT on
 * chat_messages. Never `admin`: Hasura reserves it for its unrestricted superuser, and our tokens
 * do not allow it.
 */
export type AgentRole = 'chat_admin' | 'user';

export interface HasuraClientOptions {
  /** e.g. http://hasura.internal:8080/v1/graphql */
  readonly endpoint: string;
  readonly tokens: CognitoTokenProvider;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

/**
 * POSTs GraphQL to Hasura with the agent's Cognito ID token and the operation's `x-hasura-role`
 * (one of the ID token's x-hasura-allowed-roles). A token Hasura rejects as invalid (e.g. expired
 * early because the clocks disagree) is renewed once and the request repeated.
 */
export class HasuraClient {
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly options: HasuraClientOptions) {
    this.timeoutMs = options.timeoutMs ?? HASURA_TIMEOUT_MS;
    this.fetchFn = options.fetch ?? fetch;
  }

  async request<T>(role: AgentRole, operationName: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
    try {
      return await this.send<T>(role, operationName, query, variables);
    } catch (error) {
      if (error instanceof HasuraGraphQLError && error.code === 'invalid-jwt') {
        this.options.tokens.invalidate();
        return this.send<T>(role, operationName, query, variables);
      }
      throw error;
    }
  }

  private async send<T>(role: AgentRole, operationName: string, query: string, variables: Record<string, unknown>): Promise<T> {
    let token: string;
    try {
      token = await this.options.tokens.idToken();
    } catch (error) {
      if (error instanceof CognitoAuthError) {
        // The message names Cognito's error type (never the password or a token).
        throw new ChatError('backend_unavailable', `The agent account could not sign in to Cognito (${error.type}); check AGENT_USERNAME/AGENT_PASSWORD and the agent app client.`);
      }
      throw error;
    }

    let response: Response;
    try {
      response = await this.fetchFn(this.options.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${token}`,
          'x-hasura-role': role,
        },
        body: JSON.stringify({ query, variables, operationName }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new ChatError('backend_unavailable', isTimeoutError(error) ? `Hasura did not answer within ${this.timeoutMs / 1000} s; try again shortly.` : 'Hasura is unreachable; try again shortly.');
    }

    const text = await response.text();
    let body: { data?: T | null; errors?: HasuraErrorEntry[]; error?: string; code?: string; path?: string } | undefined;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    // GraphQL errors arrive with 200; request-level errors (bad JSON, bad headers) as 4xx {error, code, path}.
    if (body?.errors?.length) throw new HasuraGraphQLError(operationName, body.errors);
    if (!response.ok || !body) {
      if (body?.code) throw new HasuraGraphQLError(operationName, [{ message: body.error ?? `HTTP ${response.status}`, extensions: { code: body.code, path: body.path } }]);
      throw new ChatError('backend_unavailable', `Hasura answered HTTP ${response.status}; try again shortly.`);
    }
    if (body.data === undefined || body.data === null) throw new ChatError('backend_unavailable', 'Hasura answered without data; try again shortly.');
    return body.data;
  }
}
