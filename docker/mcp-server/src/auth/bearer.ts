import { bearerAuthChallengeResponse, OAuthError, OAuthErrorCode, verifyBearerToken, type AuthInfo, type OAuthTokenVerifier } from '@modelcontextprotocol/server';
import type { AccessTokenVerifier, Principal } from './verifier';

/** An HTTP answer the caller writes as is (status, headers, JSON body). */
export interface AuthAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type BearerResult = { ok: true; principal: Principal } | { ok: false; reason: 'missing' | 'invalid' | 'unavailable'; answer: AuthAnswer };

/** The JWKS could not be fetched: nothing can be verified, so the answer is 503, not 401. */
class KeysUnavailableError extends Error {}

async function toAnswer(response: Response): Promise<AuthAnswer> {
  return { status: response.status, headers: Object.fromEntries(response.headers), body: await response.text() };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): AuthAnswer => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

/**
 * Bearer authentication with the SDK's helpers (`verifyBearerToken` parses the header and checks
 * expiry, `bearerAuthChallengeResponse` writes the RFC 6750 challenge with `resource_metadata`),
 * over our aws-jwt-verify verifier and its verified-token cache. Two answers stay ours, because
 * the helpers lack them:
 * - no bearer credentials at all: 401 whose challenge carries no `error` (RFC 6750 §3.1: "If the
 *   request lacks any authentication information … SHOULD NOT include an error code"), plus the
 *   `scope` a client should ask for, so an OAuth client starts its flow rather than reporting a fault;
 * - JWKS unreachable: 503 with `retry-after` (the token may be fine; a 401 would make the agent
 *   throw away a good token).
 */
export function createBearerAuth(options: { verifier: AccessTokenVerifier; resourceMetadataUrl: string; defaultScope: string }) {
  const { resourceMetadataUrl, defaultScope } = options;
  const sdkVerifier: OAuthTokenVerifier = {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      const result = await options.verifier.verify(token);
      if (result.ok) {
        const p = result.principal;
        return { token: '', clientId: p.clientId, scopes: p.scopes, expiresAt: p.expiresAt, extra: { principal: p } };
      }
      if (result.reason === 'unavailable') throw new KeysUnavailableError(result.description);
      throw new OAuthError(OAuthErrorCode.InvalidToken, result.description);
    },
  };

  return async function authenticate(authorization: string | undefined): Promise<BearerResult> {
    // A header that is absent, or another scheme (Basic, …), carries no bearer credentials.
    if (!authorization || !/^bearer\s/i.test(authorization)) {
      return {
        ok: false,
        reason: 'missing',
        answer: json(
          401,
          { error: 'unauthorized', error_description: 'a bearer access token is required' },
          {
            'www-authenticate': `Bearer resource_metadata="${resourceMetadataUrl}", scope="${defaultScope}"`,
          },
        ),
      };
    }
    try {
      const info = await verifyBearerToken(authorization, { verifier: sdkVerifier, resourceMetadataUrl });
      return { ok: true, principal: info.extra!.principal as Principal };
    } catch (err) {
      if (err instanceof KeysUnavailableError) {
        return { ok: false, reason: 'unavailable', answer: json(503, { error: 'temporarily_unavailable', error_description: err.message }, { 'retry-after': '5' }) };
      }
      return { ok: false, reason: 'invalid', answer: await toAnswer(bearerAuthChallengeResponse(err, { resourceMetadataUrl })) };
    }
  };
}

/** 403 for a verified token that lacks `scope` (RFC 6750 §3.1 insufficient_scope, with the scope to request). */
export async function insufficientScope(scope: string, description: string, resourceMetadataUrl: string): Promise<AuthAnswer> {
  return toAnswer(bearerAuthChallengeResponse(new OAuthError(OAuthErrorCode.InsufficientScope, description), { requiredScopes: [scope], resourceMetadataUrl }));
}
