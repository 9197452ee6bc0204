import { createHmac } from 'node:crypto';
import { fetchWithTimeout, HttpAnswer, HttpError } from '../../../../../chat-clients/http';

/**
 * The agent's Cognito ID token for Hasura (contract C3: Hasura's JWT mode reads the ID token's
 * `https://hasura.io/jwt/claims`). Logs in with USER_PASSWORD_AUTH, caches the tokens, and refreshes
 * them REFRESH_MARGIN_MS before the ID token expires: REFRESH_TOKEN_AUTH first, a full login when
 * the refresh token is rejected or expired.
 *
 * Plain fetch to Cognito's JSON 1.1 API rather than @aws-sdk/client-cognito-identity-provider:
 * InitiateAuth is an unsigned call (no AWS credentials), it is the only operation we need, the
 * SDK would add several MB and its own retry/timeout policy to the image, and with fetch the
 * timeout below is the whole story.
 */

/** Refresh this long before expiry, so a token never expires between being read and Hasura checking it. */
export const REFRESH_MARGIN_MS = 5 * 60_000;
/**
 * InitiateAuth answers in well under a second; 5 s covers a slow region hop while keeping a tool
 * call that must log in first far inside an MCP client's own timeout.
 */
export const COGNITO_TIMEOUT_MS = 5_000;

export interface CognitoTokenOptions {
  /** Cognito IdP endpoint, e.g. https://cognito-idp.us-east-1.amazonaws.com/ */
  readonly endpoint: string;
  readonly clientId: string;
  /** The app client's secret; when absent no SECRET_HASH is sent (a client without a secret). */
  readonly clientSecret?: string;
  readonly username: string;
  readonly password: string;
  /** Milliseconds since the epoch; injectable so tests can move time. */
  readonly now?: () => number;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

/** Identity of the agent as the ID token states it. */
export interface AgentIdentity {
  /** `sub`: the x-hasura-user-id and the users.id of the agent. */
  readonly userId: string;
  /** `cognito:username`: the pool's own username (the sub for e-mail sign-in pools). */
  readonly cognitoUsername: string;
}

/** A Cognito call failed; `retryable` is false when the credentials themselves are wrong. */
export class CognitoAuthError extends Error {
  constructor(
    message: string,
    readonly type: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'CognitoAuthError';
  }
}

interface CachedTokens {
  idToken: string;
  /** ms since epoch, from the ID token's own `exp` claim. */
  expiresAt: number;
  refreshToken?: string;
  identity: AgentIdentity;
}

interface AuthenticationResult {
  IdToken?: string;
  AccessToken?: string;
  RefreshToken?: string;
  ExpiresIn?: number;
  TokenType?: string;
}

/** base64(HMAC-SHA256(clientSecret, username + clientId)), as Cognito defines SECRET_HASH. */
export function secretHash(clientSecret: string, username: string, clientId: string): string {
  return createHmac('sha256', clientSecret)
    .update(username + clientId)
    .digest('base64');
}

/** Reads a JWT's payload without verifying it: the token came straight from Cognito over TLS and we only need exp/sub. */
export function decodeJwtPayload(token: string): Record<string, unknown> {
  const part = token.split('.')[1];
  if (!part) throw new CognitoAuthError('Cognito returned an ID token that is not a JWT', 'InvalidToken', false);
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new CognitoAuthError('Cognito returned an ID token whose payload is not JSON', 'InvalidToken', false);
  }
}

export class CognitoTokenProvider {
  private cached?: CachedTokens;
  private inFlight?: Promise<CachedTokens>;
  private readonly now: () => number;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly options: CognitoTokenOptions) {
    this.now = options.now ?? Date.now;
    this.timeoutMs = options.timeoutMs ?? COGNITO_TIMEOUT_MS;
    this.fetchFn = options.fetch ?? fetch;
  }

  /** A valid ID token, from the cache unless it is within REFRESH_MARGIN_MS of expiry. */
  async idToken(): Promise<string> {
    return (await this.tokens()).idToken;
  }

  async identity(): Promise<AgentIdentity> {
    return (await this.tokens()).identity;
  }

  /** Forgets the ID token (keeping the refresh token), e.g. after Hasura rejected it as expired. */
  invalidate(): void {
    if (this.cached) this.cached = { ...this.cached, expiresAt: 0 };
  }

  private async tokens(): Promise<CachedTokens> {
    const cached = this.cached;
    if (cached && this.now() < cached.expiresAt - REFRESH_MARGIN_MS) return cached;
    // One refresh at a time: concurrent tool calls share it instead of each logging in.
    this.inFlight ??= this.renew(cached).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async renew(previous: CachedTokens | undefined): Promise<CachedTokens> {
    if (previous?.refreshToken) {
      try {
        const result = await this.initiateAuth('REFRESH_TOKEN_AUTH', {
          REFRESH_TOKEN: previous.refreshToken,
          // Cognito checks the refresh SECRET_HASH against the user's own username (cognito:username,
          // which is the sub in an e-mail sign-in pool), not the alias the agent logged in with.
          ...this.secretHashFor(previous.identity.cognitoUsername),
        });
        // REFRESH_TOKEN_AUTH returns no new refresh token unless rotation is on: keep the old one.
        this.cached = this.toCache(result, result.RefreshToken ?? previous.refreshToken);
        return this.cached;
      } catch (error) {
        // An expired or revoked refresh token is NotAuthorizedException: fall back to a full login.
        // A timeout or a 5xx would fail the login too, so only credential errors fall through.
        if (!(error instanceof CognitoAuthError) || error.retryable) throw error;
      }
    }
    const result = await this.initiateAuth('USER_PASSWORD_AUTH', {
      USERNAME: this.options.username,
      PASSWORD: this.options.password,
      ...this.secretHashFor(this.options.username),
    });
    this.cached = this.toCache(result, result.RefreshToken);
    return this.cached;
  }

  private secretHashFor(username: string): { SECRET_HASH?: string } {
    const secret = this.options.clientSecret;
    return secret ? { SECRET_HASH: secretHash(secret, username, this.options.clientId) } : {};
  }

  private toCache(result: AuthenticationResult, refreshToken: string | undefined): CachedTokens {
    if (!result.IdToken) throw new CognitoAuthError('Cognito answered without an IdToken', 'InvalidResponse', true);
    const claims = decodeJwtPayload(result.IdToken);
    const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : this.now() + (result.ExpiresIn ?? 0) * 1000;
    const sub = typeof claims.sub === 'string' ? claims.sub : undefined;
    if (!sub) throw new CognitoAuthError('the ID token has no sub claim', 'InvalidToken', false);
    const cognitoUsername = typeof claims['cognito:username'] === 'string' ? (claims['cognito:username'] as string) : sub;
    return { idToken: result.IdToken, expiresAt: exp, refreshToken, identity: { userId: sub, cognitoUsername } };
  }

  private async initiateAuth(flow: 'USER_PASSWORD_AUTH' | 'REFRESH_TOKEN_AUTH', params: Record<string, string | undefined>): Promise<AuthenticationResult> {
    let response: HttpAnswer;
    try {
      response = await fetchWithTimeout(this.options.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth',
        },
        body: JSON.stringify({ AuthFlow: flow, ClientId: this.options.clientId, AuthParameters: params }),
        timeoutMs: this.timeoutMs,
        what: `Cognito ${flow}`,
        fetch: this.fetchFn,
        unanswered: (why) => `Cognito ${flow} failed: ${why.failure === 'timeout' ? `no answer within ${why.timeoutMs} ms` : String((why.cause as Error)?.message ?? why.cause)}`,
      });
    } catch (error) {
      if (error instanceof HttpError) throw new CognitoAuthError(error.message, 'NetworkError', true);
      throw error;
    }
    const text = response.text;
    // A non-JSON answer (a proxy's error page) is reported by status below.
    const body = (response.json ?? {}) as Record<string, unknown>;
    if (!response.ok) {
      // JSON 1.1 errors: {"__type": "NotAuthorizedException", "message": "..."} (the type may carry a namespace prefix).
      const rawType = String(body.__type ?? response.headers.get('x-amzn-errortype') ?? `HTTP${response.status}`);
      const type = rawType.split('#').pop()!.split(':')[0]!;
      const message = String(body.message ?? body.Message ?? text.slice(0, 200));
      const credentialError = ['NotAuthorizedException', 'UserNotFoundException', 'PasswordResetRequiredException', 'UserNotConfirmedException', 'InvalidParameterException'].includes(type);
      throw new CognitoAuthError(`Cognito ${flow} rejected: ${type}: ${message}`, type, !credentialError);
    }
    if (body.ChallengeName) {
      // NEW_PASSWORD_REQUIRED etc.: a machine account cannot answer a challenge.
      throw new CognitoAuthError(`Cognito asked the agent account for challenge ${String(body.ChallengeName)}; set a permanent password for it`, 'Challenge', false);
    }
    const result = body.AuthenticationResult as AuthenticationResult | undefined;
    if (!result) throw new CognitoAuthError(`Cognito ${flow} answered without AuthenticationResult`, 'InvalidResponse', true);
    return result;
  }
}
