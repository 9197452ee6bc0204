import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { FetchError, JwtBaseError, JwtInvalidAudienceError, JwtInvalidClaimError } from 'aws-jwt-verify/error';

/** An `iat` too far ahead of our clock (aws-jwt-verify checks exp and nbf, not iat). */
import { fetchWithTimeout, HttpAnswer, HttpError } from '../../../../chat-clients/http';
class JwtIssuedInFutureError extends JwtInvalidClaimError {}
import type { Fetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';

/** Who is calling, as established by a verified Cognito access token. */
export interface Principal {
  clientId: string;
  /** The token's subject (for client_credentials tokens, the client id again). */
  subject: string;
  scopes: string[];
  groups: string[];
  /** Seconds since the epoch. */
  expiresAt: number;
}

export type VerifyResult =
  | { ok: true; principal: Principal }
  /** `unavailable`: the JWKS could not be fetched, so nothing can be verified (503, not 401). */
  | { ok: false; reason: 'invalid' | 'unavailable'; description: string };

export interface AccessTokenVerifier {
  verify(token: string): Promise<VerifyResult>;
}

export interface VerifierOptions {
  userPoolId: string;
  allowedClientIds: string[];
  /** Local mode: fetch the pool's JWKS from this loopback URL instead of Cognito. */
  jwksUrl?: string;
  /**
   * What an `aud` claim must name when a token carries one: this server's resource URL (RFC 8707).
   * Cognito's access tokens normally have no `aud` (client_id identifies the client instead);
   * a token bound to some other resource must not be replayed here.
   */
  audiences: string[];
}

/**
 * How far ahead of our clock a token's `iat` may be. Cognito and ECS both keep NTP time, so a few
 * seconds is the real skew; 60 s tolerates a badly drifting host without accepting tokens minted
 * with a clock (or a forged claim) set into the future.
 */
export const IAT_SKEW_SECONDS = 60;

/** RFC 8707 resource identifiers compared as the SDK compares them: no fragment, no trailing slash. */
const comparable = (value: string) => value.replace(/#.*$/, '').replace(/\/$/, '');

/** Checks CognitoJwtVerifier does not make: `aud` (when present) and an `iat` from the future. */
function checkAudienceAndIssuedAt(payload: Record<string, unknown>, audiences: string[]): void {
  if (payload.aud !== undefined) {
    // RFC 7519 §4.1.3: with a list, the token is for us when one of its values identifies us.
    const listed = (Array.isArray(payload.aud) ? payload.aud : [payload.aud]).map(String).map(comparable);
    const ours = audiences.map(comparable);
    if (!listed.some((a) => ours.includes(a))) {
      throw new JwtInvalidAudienceError('Token audience (aud) is not this resource', payload.aud as string, audiences);
    }
  }
  if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + IAT_SKEW_SECONDS) {
    throw new JwtIssuedInFutureError('Token issued in the future (iat)', payload.iat, `<= now + ${IAT_SKEW_SECONDS} s`);
  }
}

const VERIFIED_CACHE_SIZE = 1_000;

// Cognito answers the JWKS within milliseconds; 3 s bounds a stall without failing a slow start.
const JWKS_TIMEOUT_MS = 3_000;

/**
 * Serves the pool's JWKS from a loopback URL (local mode). Every other part of verification
 * (issuer, token_use, client_id, expiry, signature, kid lookup) stays CognitoJwtVerifier's own.
 */
class LoopbackJwksFetcher implements Fetcher {
  constructor(private readonly url: string) {}
  async fetch(): Promise<ArrayBuffer> {
    let res: HttpAnswer;
    try {
      res = await fetchWithTimeout(this.url, { timeoutMs: JWKS_TIMEOUT_MS, what: 'GET JWKS', unanswered: (why) => (why.cause as Error).message });
    } catch (err) {
      // aws-jwt-verify's own error, so its cache treats this like any JWKS download failure.
      if (err instanceof HttpError) throw new FetchError(this.url, err.message);
      throw err;
    }
    if (res.status !== 200) throw new FetchError(this.url, `status ${res.status}`);
    return new TextEncoder().encode(res.text).buffer as ArrayBuffer;
  }
}

/**
 * Verifies Cognito access tokens with aws-jwt-verify's CognitoJwtVerifier: signature against the
 * pool's JWKS, issuer (the pool), token_use=access, client_id in the allow-list, exp/nbf; plus
 * `aud` (ours when present) and `iat` (not beyond IAT_SKEW_SECONDS in the future).
 * Scopes are checked per tool by the caller.
 */
export function createAccessTokenVerifier(options: VerifierOptions): AccessTokenVerifier {
  const jwksCache = options.jwksUrl ? new SimpleJwksCache({ fetcher: new LoopbackJwksFetcher(options.jwksUrl) }) : undefined;
  const verifier = CognitoJwtVerifier.create(
    {
      userPoolId: options.userPoolId,
      tokenUse: 'access',
      clientId: options.allowedClientIds,
      customJwtCheck: ({ payload }) => checkAudienceAndIssuedAt(payload, options.audiences),
    },
    jwksCache ? { jwksCache } : undefined,
  );
  // Agents send the same token with every call until it expires; re-verifying the RSA signature
  // each time is most of the auth cost. Remember successful verifications (keyed by the whole
  // token, so any altered byte misses) until the token's own exp; failures are never cached.
  const verified = new Map<string, Principal>();
  const remember = (key: string, principal: Principal) => {
    if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value as string);
    verified.set(key, principal);
  };
  return {
    async verify(token) {
      const hit = verified.get(token);
      if (hit) {
        if (hit.expiresAt * 1000 > Date.now()) return { ok: true, principal: hit };
        verified.delete(token);
      }
      const result = await verifyUncached(token);
      if (result.ok) remember(token, result.principal);
      return result;
    },
  };

  async function verifyUncached(token: string): Promise<VerifyResult> {
    try {
      const payload = await verifier.verify(token);
      const scope = typeof payload.scope === 'string' ? payload.scope : '';
      const groups = payload['cognito:groups'];
      return {
        ok: true,
        principal: {
          clientId: String(payload.client_id),
          subject: String(payload.sub),
          scopes: scope.split(' ').filter(Boolean),
          groups: Array.isArray(groups) ? groups.map(String) : [],
          expiresAt: Number(payload.exp),
        },
      };
    } catch (err) {
      if (err instanceof FetchError) return { ok: false, reason: 'unavailable', description: 'the token signing keys could not be fetched' };
      // aws-jwt-verify's messages name the failed check ("Token expired", "Issuer not allowed")
      // and never echo the token itself.
      const description = err instanceof JwtBaseError ? err.message : 'the access token could not be verified';
      return { ok: false, reason: 'invalid', description };
    }
  }
}
