import { createHash, createSign, generateKeyPairSync, KeyObject, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the Cognito user pool, for local mode and tests: an RS256 signing key, and on
 * loopback a small OAuth 2.1 authorization server that really answers: RFC 8414 metadata (with
 * PKCE S256), the JWKS, /oauth2/token (client_credentials for confidential clients, as Cognito's
 * token endpoint takes it; authorization_code with PKCE for public clients) and /oauth2/authorize.
 * Access tokens are shaped like Cognito's (token_use=access, client_id, scope, no aud) and carry the
 * pool's issuer, so the server verifies them with CognitoJwtVerifier exactly as it verifies
 * Cognito's; the metadata's `issuer` is the loopback URL it is served from (RFC 8414 §3.3).
 * /oauth2/authorize approves at once: on loopback the only person is the one at the keyboard.
 * Never imported by the server bundle.
 */
export interface LocalClient {
  clientId: string;
  /** Confidential clients (client_credentials) have one; public clients (authorization code + PKCE) do not. */
  secret?: string;
  /** Scopes the client may be granted. */
  scopes: string[];
  /** Groups put into the tokens of people signed in through this client. */
  groups?: string[];
}

export interface LocalIssuer {
  readonly userPoolId: string;
  readonly issuer: string;
  /** Loopback URL of the JWKS (pass as COGNITO_JWKS_URL). */
  readonly jwksUrl: string;
  /** The authorization server's loopback URL (its RFC 8414 issuer; pass as AUTHORIZATION_SERVER_URL). */
  readonly url: string;
  /** Its token endpoint. */
  readonly tokenUrl: string;
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

const AUTH_CODE_TTL_MS = 60_000; // RFC 6749 §4.1.2: short-lived, single use
const TOKEN_TTL_S = 3600; // Cognito's default access-token lifetime

const LOOPBACK_REDIRECT = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?\//;

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'access-control-allow-origin': '*', ...headers }).end(JSON.stringify(body));
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 16_384) throw new Error('form too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const sameSecret = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export async function startLocalIssuer(options: { userPoolId?: string; region?: string; clients?: LocalClient[] } = {}): Promise<LocalIssuer> {
  const userPoolId = options.userPoolId ?? 'us-east-1_LocalDev1';
  const region = userPoolId.split('_')[0];
  const issuer = `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  const jwks = JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] });
  const clients = new Map((options.clients ?? []).map((c) => [c.clientId, c]));
  const codes = new Map<string, { clientId: string; redirectUri: string; challenge: string; scopes: string[]; expires: number }>();
  let url = '';

  function mint({
    clientId,
    scopes,
    groups,
    ttlSeconds = TOKEN_TTL_S,
    overrides = {},
    sub,
  }: {
    clientId: string;
    scopes: string[];
    groups?: string[];
    ttlSeconds?: number;
    overrides?: Record<string, unknown>;
    sub?: string;
  }): string {
    const now = Math.floor(Date.now() / 1000);
    const payload: Record<string, unknown> = {
      sub: sub ?? clientId,
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
  }

  const metadata = () => ({
    issuer: url,
    authorization_endpoint: `${url}/oauth2/authorize`,
    token_endpoint: `${url}/oauth2/token`,
    jwks_uri: `${url}/.well-known/jwks.json`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'client_credentials'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    scopes_supported: [...new Set([...clients.values()].flatMap((c) => c.scopes))],
  });

  /** Requested scopes, all of which the client must be allowed (Cognito answers invalid_scope otherwise). */
  const grant = (client: LocalClient, requested: string | null): string[] | undefined => {
    const wanted = requested ? requested.split(' ').filter(Boolean) : client.scopes;
    return wanted.every((s) => client.scopes.includes(s)) ? wanted : undefined;
  };

  function authorize(q: URLSearchParams, res: ServerResponse): void {
    const client = clients.get(q.get('client_id') ?? '');
    const redirectUri = q.get('redirect_uri') ?? '';
    // Errors about the client or the redirect URI are shown, never redirected (RFC 6749 §4.1.2.1).
    if (!client || client.secret !== undefined) return send(res, 400, { error: 'invalid_client', error_description: 'unknown public client_id' });
    // RFC 8252 §7.3: a native app's loopback redirect may use any port.
    if (!LOOPBACK_REDIRECT.test(redirectUri)) return send(res, 400, { error: 'invalid_request', error_description: 'redirect_uri must be an http loopback URL' });
    const back = new URL(redirectUri);
    const state = q.get('state');
    if (state) back.searchParams.set('state', state);
    const scopes = grant(client, q.get('scope'));
    const challenge = q.get('code_challenge');
    let error: string | undefined;
    if (q.get('response_type') !== 'code') error = 'unsupported_response_type';
    else if (!challenge || q.get('code_challenge_method') !== 'S256') error = 'invalid_request';
    else if (!scopes) error = 'invalid_scope';
    if (error) {
      back.searchParams.set('error', error);
    } else {
      const code = randomBytes(24).toString('base64url');
      codes.set(code, { clientId: client.clientId, redirectUri, challenge: challenge!, scopes: scopes!, expires: Date.now() + AUTH_CODE_TTL_MS });
      back.searchParams.set('code', code);
    }
    res.writeHead(302, { location: back.toString(), 'cache-control': 'no-store' }).end();
  }

  async function token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = await readForm(req);
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
    const [basicId, basicSecret] = basic ? Buffer.from(basic[1], 'base64').toString('utf8').split(':') : [];
    const clientId = basicId ? decodeURIComponent(basicId) : (form.get('client_id') ?? '');
    const secret = basicSecret !== undefined ? decodeURIComponent(basicSecret) : form.get('client_secret');
    const client = clients.get(clientId);
    if (!client) return send(res, 401, { error: 'invalid_client' });
    const grantType = form.get('grant_type');
    if (grantType === 'client_credentials') {
      if (client.secret === undefined || !secret || !sameSecret(secret, client.secret)) return send(res, 401, { error: 'invalid_client' });
      const scopes = grant(client, form.get('scope'));
      if (!scopes) return send(res, 400, { error: 'invalid_scope' });
      return send(res, 200, { access_token: mint({ clientId, scopes }), token_type: 'Bearer', expires_in: TOKEN_TTL_S });
    }
    if (grantType === 'authorization_code') {
      const code = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      const ok =
        code &&
        code.expires > Date.now() &&
        code.clientId === clientId &&
        code.redirectUri === form.get('redirect_uri') &&
        createHash('sha256').update(verifier).digest('base64url') === code.challenge;
      if (!ok) return send(res, 400, { error: 'invalid_grant' });
      return send(res, 200, { access_token: mint({ clientId, scopes: code.scopes, groups: client.groups, sub: 'local-person' }), token_type: 'Bearer', expires_in: TOKEN_TTL_S });
    }
    return send(res, 400, { error: 'unsupported_grant_type' });
  }

  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'OPTIONS') {
      // Browser clients (the MCP Inspector) read the metadata and call the token endpoint directly.
      res.writeHead(204, { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, POST, OPTIONS', 'access-control-allow-headers': '*' }).end();
    } else if (req.method === 'GET' && u.pathname === '/.well-known/jwks.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' }).end(jwks);
    } else if (req.method === 'GET' && (u.pathname === '/.well-known/oauth-authorization-server' || u.pathname === '/.well-known/openid-configuration')) {
      send(res, 200, metadata());
    } else if (req.method === 'GET' && u.pathname === '/oauth2/authorize') {
      authorize(u.searchParams, res);
    } else if (req.method === 'POST' && u.pathname === '/oauth2/token') {
      token(req, res).catch(() => send(res, 400, { error: 'invalid_request' }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  url = `http://127.0.0.1:${port}`;

  return {
    userPoolId,
    issuer,
    url,
    tokenUrl: `${url}/oauth2/token`,
    jwksUrl: `${url}/.well-known/jwks.json`,
    mint,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
