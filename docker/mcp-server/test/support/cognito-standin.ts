import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { hasuraClaims } from '../../../../lambda/pre-token-generation/claims';

/**
 * A stand-in for Cognito's InitiateAuth on 127.0.0.1, speaking the JSON 1.1 protocol as the
 * Cognito API reference defines it: POST /, `X-Amz-Target: AWSCognitoIdentityProviderService.InitiateAuth`,
 * `Content-Type: application/x-amz-json-1.1`, errors as HTTP 400 `{"__type", "message"}`.
 *
 * It models an e-mail sign-in pool: the user logs in with an alias (USERNAME), while the pool's own
 * username is the sub. SECRET_HASH is checked exactly: HMAC-SHA256(clientSecret, USERNAME + clientId)
 * for USER_PASSWORD_AUTH, and with the pool username (the sub) for REFRESH_TOKEN_AUTH.
 * ID tokens are HS256 JWTs signed with `signingKey`, which the Hasura stand-in verifies.
 */
export interface CognitoStandInOptions {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly loginName: string;
  readonly password: string;
  /** The user's sub, also its pool username. */
  readonly sub: string;
  readonly idTokenTtlSeconds?: number;
  /** Seconds since the epoch; shared with the code under test to move time. */
  readonly nowSeconds: () => number;
  /** The pool's issuer, `https://cognito-idp.<region>.amazonaws.com/<poolId>` (default: a us-east-1 pool). */
  readonly issuer?: string;
  /** Hasura roles the ID token's claims allow, the first the default (default: the claims the real trigger gives chat-admin). */
  readonly allowedRoles?: string[];
}

export interface InitiateAuthCall {
  readonly flow: string;
  readonly ok: boolean;
  readonly error?: string;
}

export const HASURA_CLAIMS = 'https://hasura.io/jwt/claims';

export class CognitoStandIn {
  readonly signingKey = randomBytes(32);
  readonly calls: InitiateAuthCall[] = [];
  private server?: Server;
  private readonly refreshTokens = new Set<string>();
  private readonly issuedTokenIds = new Set<string>();
  private readonly expiredTokenIds = new Set<string>();
  url = '';
  readonly issuer: string;

  constructor(readonly options: CognitoStandInOptions) {
    this.issuer = options.issuer ?? 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_StandIn1';
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Makes every token issued so far count as expired, as clock skew between Cognito's clock and a verifier's would. */
  expireIssuedTokens(): void {
    for (const id of this.issuedTokenIds) this.expiredTokenIds.add(id);
  }

  /** Revokes every refresh token, as GlobalSignOut or an expired refresh token would. */
  revokeRefreshTokens(): void {
    this.refreshTokens.clear();
  }

  private expectedHash(username: string): string {
    return createHmac('sha256', this.options.clientSecret)
      .update(username + this.options.clientId)
      .digest('base64');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const fail = (type: string, message: string, flow = 'unknown') => {
      this.calls.push({ flow, ok: false, error: type });
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type }).end(JSON.stringify({ __type: type, message }));
    };
    if (req.method !== 'POST' || req.url !== '/') return fail('UnknownOperationException', 'POST / only');
    if (req.headers['x-amz-target'] !== 'AWSCognitoIdentityProviderService.InitiateAuth') return fail('UnknownOperationException', `unexpected target ${String(req.headers['x-amz-target'])}`);
    if (req.headers['content-type'] !== 'application/x-amz-json-1.1') return fail('SerializationException', 'expected application/x-amz-json-1.1');
    let body: { AuthFlow?: string; ClientId?: string; AuthParameters?: Record<string, string> };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return fail('SerializationException', 'body is not JSON');
    }
    const flow = body.AuthFlow ?? '';
    const params = body.AuthParameters ?? {};
    if (body.ClientId !== this.options.clientId) return fail('ResourceNotFoundException', `User pool client ${body.ClientId} does not exist.`, flow);

    if (flow === 'USER_PASSWORD_AUTH') {
      if (!params.SECRET_HASH) return fail('NotAuthorizedException', `Client ${this.options.clientId} is configured with secret but SECRET_HASH was not received`, flow);
      if (params.USERNAME !== this.options.loginName) return fail('NotAuthorizedException', 'Incorrect username or password.', flow);
      if (params.SECRET_HASH !== this.expectedHash(params.USERNAME)) return fail('NotAuthorizedException', `Unable to verify secret hash for client ${this.options.clientId}`, flow);
      if (params.PASSWORD !== this.options.password) return fail('NotAuthorizedException', 'Incorrect username or password.', flow);
      const refreshToken = randomBytes(24).toString('base64url');
      this.refreshTokens.add(refreshToken);
      return this.answer(res, flow, refreshToken);
    }
    if (flow === 'REFRESH_TOKEN_AUTH' || flow === 'REFRESH_TOKEN') {
      if (!params.REFRESH_TOKEN || !this.refreshTokens.has(params.REFRESH_TOKEN)) return fail('NotAuthorizedException', 'Invalid Refresh Token', flow);
      // The refresh hash is keyed by the pool's username (the sub), not the alias used to log in.
      if (params.SECRET_HASH !== this.expectedHash(this.options.sub)) return fail('NotAuthorizedException', `Unable to verify secret hash for client ${this.options.clientId}`, flow);
      return this.answer(res, flow);
    }
    return fail('InvalidParameterException', `unsupported AuthFlow ${flow}`, flow);
  }

  private answer(res: ServerResponse, flow: string, refreshToken?: string): void {
    const now = this.options.nowSeconds();
    const ttl = this.options.idTokenTtlSeconds ?? 3600;
    const roles = this.options.allowedRoles;
    const claims = roles ? { 'x-hasura-user-id': this.options.sub, 'x-hasura-default-role': roles[0], 'x-hasura-allowed-roles': roles } : hasuraClaims(this.options.sub, ['chat-admin']);
    const jti = randomUUID();
    this.issuedTokenIds.add(jti);
    const idToken = this.sign({
      iss: this.issuer,
      sub: this.options.sub,
      'cognito:username': this.options.sub,
      email: this.options.loginName,
      token_use: 'id',
      aud: this.options.clientId,
      iat: now,
      exp: now + ttl,
      jti,
      [HASURA_CLAIMS]: JSON.stringify(claims),
    });
    const accessToken = this.sign({ iss: this.issuer, sub: this.options.sub, token_use: 'access', client_id: this.options.clientId, iat: now, exp: now + ttl });
    this.calls.push({ flow, ok: true });
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(
      JSON.stringify({
        AuthenticationResult: { AccessToken: accessToken, IdToken: idToken, ExpiresIn: ttl, TokenType: 'Bearer', ...(refreshToken ? { RefreshToken: refreshToken } : {}) },
        ChallengeParameters: {},
      }),
    );
  }

  sign(payload: Record<string, unknown>): string {
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const head = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc(payload)}`;
    return `${head}.${createHmac('sha256', this.signingKey).update(head).digest('base64url')}`;
  }

  /** Verifies a token this stand-in issued; returns its claims or why it is not acceptable. */
  verify(token: string): { ok: true; claims: Record<string, unknown> } | { ok: false; reason: string } {
    const [h, p, s] = token.split('.');
    if (!h || !p || !s) return { ok: false, reason: 'JWSError CompactDecodeError' };
    if (createHmac('sha256', this.signingKey).update(`${h}.${p}`).digest('base64url') !== s) return { ok: false, reason: 'JWSError JWSInvalidSignature' };
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (typeof claims.exp !== 'number' || claims.exp <= this.options.nowSeconds() || this.expiredTokenIds.has(String(claims.jti))) return { ok: false, reason: 'JWTExpired' };
    return { ok: true, claims };
  }
}
