import { createSign, generateKeyPairSync, KeyObject, randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the Cognito user pool's token endpoint, for local mode and tests: an RS256
 * signing key, its JWKS served on loopback, and access tokens shaped like the ones Cognito
 * issues for the client_credentials grant (token_use=access, client_id, scope, no aud). The
 * server verifies them with CognitoJwtVerifier, exactly as it verifies Cognito's.
 * Never imported by the server bundle.
 */
export interface LocalIssuer {
  readonly userPoolId: string;
  readonly issuer: string;
  /** Loopback URL of the JWKS (pass as COGNITO_JWKS_URL). */
  readonly jwksUrl: string;
  /** An access token for `clientId` with `scopes`; `overrides` replace any claim (tests use it for bad tokens). */
  mint(options: { clientId: string; scopes: string[]; groups?: string[]; ttlSeconds?: number; overrides?: Record<string, unknown> }): string;
  close(): Promise<void>;
}

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/** Signs `payload` as a compact RS256 JWS with `key`. */
export function signJwt(payload: Record<string, unknown>, key: KeyObject, kid: string): string {
  const header = b64url(JSON.stringify({ kid, alg: 'RS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify(payload));
  const signature = createSign('RSA-SHA256').update(`${header}.${body}`).sign(key);
  return `${header}.${body}.${b64url(signature)}`;
}

export async function startLocalIssuer(options: { userPoolId?: string; region?: string } = {}): Promise<LocalIssuer> {
  const userPoolId = options.userPoolId ?? 'us-east-1_LocalDev1';
  const region = userPoolId.split('_')[0];
  const issuer = `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  const jwks = JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] });

  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/.well-known/jwks.json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    userPoolId,
    issuer,
    jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    mint({ clientId, scopes, groups, ttlSeconds = 3600, overrides = {} }) {
      const now = Math.floor(Date.now() / 1000);
      const payload: Record<string, unknown> = {
        sub: clientId,
        token_use: 'access',
        scope: scopes.join(' '),
        auth_time: now,
        iss: issuer,
        exp: now + ttlSeconds,
        iat: now,
        version: 2,
        jti: randomUUID(),
        client_id: clientId,
        ...(groups ? { 'cognito:groups': groups } : {}),
        ...overrides,
      };
      return signJwt(payload, privateKey, kid);
    },
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}
