import { createHmac, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { CognitoAuthError, CognitoTokenProvider, decodeJwtPayload, REFRESH_MARGIN_MS, secretHash } from '../../../src/backend/hasura/cognito-token';
import { CognitoStandIn } from '../../support/cognito-standin';

const CLIENT_ID = '4bmsrr65ah3oas5d4sd54st11k';
const CLIENT_SECRET = 'agent-client-secret-for-tests';
const LOGIN = 'mcp-agent@chat.example.com';
const PASSWORD = 'Corr3ct-horse-battery!';
const TTL_SECONDS = 3600;

describe('CognitoTokenProvider against a stand-in Cognito', () => {
  let cognito: CognitoStandIn;
  let nowMs: number;
  const sub = randomUUID();

  beforeEach(async () => {
    nowMs = Date.UTC(2026, 0, 1, 12, 0, 0);
    cognito = new CognitoStandIn({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      loginName: LOGIN,
      password: PASSWORD,
      sub,
      idTokenTtlSeconds: TTL_SECONDS,
      nowSeconds: () => Math.floor(nowMs / 1000),
    });
    await cognito.start();
  });
  afterEach(() => cognito.stop());

  const provider = (overrides: Partial<ConstructorParameters<typeof CognitoTokenProvider>[0]> = {}) =>
    new CognitoTokenProvider({ endpoint: cognito.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, username: LOGIN, password: PASSWORD, now: () => nowMs, ...overrides });

  it('computes SECRET_HASH as base64(HMAC-SHA256(secret, username + clientId))', () => {
    const expected = createHmac('sha256', CLIENT_SECRET).update(`${LOGIN}${CLIENT_ID}`).digest('base64');
    expect(secretHash(CLIENT_SECRET, LOGIN, CLIENT_ID)).toBe(expected);
    // Computed independently: printf 'userclient' | openssl dgst -sha256 -hmac secret -binary | base64
    expect(secretHash('secret', 'user', 'client')).toBe('wvW87lzZoI+qQCVGmWVBJLlucdJ65huAVP1z+0MgA6E=');
  });

  it('logs in with USER_PASSWORD_AUTH and caches the ID token', async () => {
    const tokens = provider();
    const first = await tokens.idToken();
    expect(decodeJwtPayload(first)).toMatchObject({ sub, token_use: 'id' });
    expect(await tokens.idToken()).toBe(first);
    expect(await tokens.identity()).toEqual({ userId: sub, cognitoUsername: sub });
    expect(cognito.calls).toEqual([{ flow: 'USER_PASSWORD_AUTH', ok: true }]);
  });

  it('shares one login between concurrent callers', async () => {
    const tokens = provider();
    const all = await Promise.all(Array.from({ length: 8 }, () => tokens.idToken()));
    expect(new Set(all).size).toBe(1);
    expect(cognito.calls).toHaveLength(1);
  });

  it('refreshes with REFRESH_TOKEN_AUTH exactly 5 minutes before the ID token expires', async () => {
    const tokens = provider();
    const first = await tokens.idToken();
    const expiresAtMs = (decodeJwtPayload(first).exp as number) * 1000;
    expect(REFRESH_MARGIN_MS).toBe(5 * 60_000);

    nowMs = expiresAtMs - REFRESH_MARGIN_MS - 1000;
    expect(await tokens.idToken()).toBe(first);
    expect(cognito.calls).toHaveLength(1);

    nowMs = expiresAtMs - REFRESH_MARGIN_MS + 1000;
    const second = await tokens.idToken();
    expect(second).not.toBe(first);
    // The stand-in accepts the refresh only with SECRET_HASH keyed by the pool username (the sub).
    expect(cognito.calls.map((c) => c.flow)).toEqual(['USER_PASSWORD_AUTH', 'REFRESH_TOKEN_AUTH']);
    expect(cognito.calls.every((c) => c.ok)).toBe(true);
    expect(decodeJwtPayload(second).exp as number).toBeGreaterThan(expiresAtMs / 1000);
  });

  it('keeps using the original refresh token, which REFRESH_TOKEN_AUTH does not return again', async () => {
    const tokens = provider();
    await tokens.idToken();
    for (let i = 0; i < 3; i++) {
      nowMs += TTL_SECONDS * 1000;
      await tokens.idToken();
    }
    expect(cognito.calls.map((c) => c.flow)).toEqual(['USER_PASSWORD_AUTH', 'REFRESH_TOKEN_AUTH', 'REFRESH_TOKEN_AUTH', 'REFRESH_TOKEN_AUTH']);
  });

  it('falls back to a full login when the refresh token is rejected', async () => {
    const tokens = provider();
    await tokens.idToken();
    cognito.revokeRefreshTokens();
    nowMs += TTL_SECONDS * 1000;
    await tokens.idToken();
    expect(cognito.calls).toEqual([
      { flow: 'USER_PASSWORD_AUTH', ok: true },
      { flow: 'REFRESH_TOKEN_AUTH', ok: false, error: 'NotAuthorizedException' },
      { flow: 'USER_PASSWORD_AUTH', ok: true },
    ]);
  });

  it('renews after invalidate() even though the cached token has not expired', async () => {
    const tokens = provider();
    const first = await tokens.idToken();
    tokens.invalidate();
    expect(await tokens.idToken()).not.toBe(first);
    expect(cognito.calls.map((c) => c.flow)).toEqual(['USER_PASSWORD_AUTH', 'REFRESH_TOKEN_AUTH']);
  });

  it('fails with a non-retryable error naming the Cognito error type for a wrong password', async () => {
    const error = await provider({ password: 'wrong' })
      .idToken()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CognitoAuthError);
    expect(error).toMatchObject({ type: 'NotAuthorizedException', retryable: false });
    expect((error as Error).message).not.toContain('wrong');
  });

  it('is rejected by Cognito when the client secret is wrong (the hash is checked)', async () => {
    const error = await provider({ clientSecret: 'not-the-secret' })
      .idToken()
      .catch((e: unknown) => e);
    expect((error as Error).message).toContain('Unable to verify secret hash');
  });

  it('gives up after its timeout when Cognito does not answer', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const started = Date.now();
      const error = await provider({ endpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`, timeoutMs: 200 })
        .idToken()
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ type: 'NetworkError', retryable: true });
      expect((error as Error).message).toContain('no answer within 200 ms');
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
    }
  });
});
