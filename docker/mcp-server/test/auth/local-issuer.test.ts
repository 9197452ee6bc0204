import { request } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { discoverAuthorizationServerMetadata, discoverOAuthProtectedResourceMetadata, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientInformationMixed, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { snapshotChat } from '../support/chat-fixture';
import { startEnvironment, type Environment } from '../support/environment';
import { bearer, postRpc, toolCall } from '../support/raw-rpc';

const PUBLIC_CLIENT = 'local-mcp-client';
const HOSTED_UI = 'phenom-test-chat.auth.us-east-1.amazoncognito.com';
const INSPECTOR = 'http://localhost:6274';

/** One POST with full control over Host and Origin (fetch will not send a foreign Host). */
function rawPost(url: string, headers: Record<string, string>, body: unknown): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request(
      { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'oauth-test', version: '1' } } };

describe('deployed shape: Cognito behind an RFC 8414 document at our origin', () => {
  let env: Environment;
  beforeAll(async () => {
    env = await startEnvironment({ COGNITO_DOMAIN: HOSTED_UI });
  });
  afterAll(() => env?.teardown());

  it('the official SDK client discovers the authorization server from the 401 and finds PKCE S256 and the hosted-UI endpoints', async () => {
    const prm = await discoverOAuthProtectedResourceMetadata(env.server.mcpUrl);
    expect(prm.authorization_servers).toEqual([env.server.url]);
    const as = await discoverAuthorizationServerMetadata(prm.authorization_servers![0]);
    expect(as).toMatchObject({
      issuer: env.server.url,
      authorization_endpoint: `https://${HOSTED_UI}/oauth2/authorize`,
      token_endpoint: `https://${HOSTED_UI}/oauth2/token`,
      jwks_uri: `${env.issuer.issuer}/.well-known/jwks.json`,
      code_challenge_methods_supported: ['S256'],
      response_types_supported: ['code'],
    });
    expect(as).not.toHaveProperty('registration_endpoint'); // Cognito has no dynamic client registration
  });
});

describe('local shape: a loopback authorization server that answers', () => {
  let env: Environment;
  beforeAll(async () => {
    env = await startEnvironment((issuer) => ({ AUTHORIZATION_SERVER_URL: issuer.url, INTERACTIVE_CLIENT_IDS: PUBLIC_CLIENT }), {
      clients: [{ clientId: PUBLIC_CLIENT, scopes: ['chat/read', 'chat/moderate'] }],
    });
  });
  afterAll(() => env?.teardown());

  it('an OAuth-capable MCP client given only the public client id signs in with authorization code + PKCE and calls a tool', async () => {
    let saved: OAuthTokens | undefined;
    let verifier = '';
    let authorizationUrl: URL | undefined;
    const provider: OAuthClientProvider = {
      redirectUrl: 'http://localhost:8787/callback', // Claude Code's loopback redirect shape
      clientMetadata: { client_name: 'test', redirect_uris: ['http://localhost:8787/callback'], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'none' },
      clientInformation: (): OAuthClientInformationMixed => ({ client_id: PUBLIC_CLIENT }),
      tokens: () => saved,
      saveTokens: (t) => void (saved = t),
      redirectToAuthorization: (url) => void (authorizationUrl = url),
      saveCodeVerifier: (v) => void (verifier = v),
      codeVerifier: () => verifier,
    };
    const transport = new StreamableHTTPClientTransport(new URL(env.server.mcpUrl), { authProvider: provider });
    await expect(new Client({ name: 'oauth-test', version: '1' }).connect(transport)).rejects.toThrow(/Unauthorized/);
    expect(authorizationUrl?.origin).toBe(env.issuer.url);
    expect(authorizationUrl?.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorizationUrl?.searchParams.get('scope')).toBe('chat/read'); // from the challenge's scope

    // The browser step: the authorization server redirects back to the loopback callback.
    const back = await fetch(authorizationUrl!, { redirect: 'manual' });
    expect(back.status).toBe(302);
    const callback = new URL(back.headers.get('location')!);
    expect(callback.origin + callback.pathname).toBe('http://localhost:8787/callback');
    await transport.finishAuth(callback.searchParams.get('code')!);
    expect(saved?.access_token).toEqual(expect.any(String));

    const client = new Client({ name: 'oauth-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(env.server.mcpUrl), { authProvider: provider }));
    try {
      const rooms = (await client.callTool({ name: 'chat_list_rooms', arguments: {} })).structuredContent as { rooms: unknown[] };
      expect(rooms.rooms).toHaveLength(3);
    } finally {
      await client.close();
    }
  });

  it('the token endpoint refuses a code replayed or redeemed without its PKCE verifier', async () => {
    const redirect = 'http://127.0.0.1:9/cb';
    const auth = new URL(`${env.issuer.url}/oauth2/authorize`);
    Object.entries({ response_type: 'code', client_id: PUBLIC_CLIENT, redirect_uri: redirect, code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' }).forEach(([k, v]) =>
      auth.searchParams.set(k, v),
    );
    const code = new URL((await fetch(auth, { redirect: 'manual' })).headers.get('location')!).searchParams.get('code')!;
    const res = await fetch(env.issuer.tokenUrl, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: PUBLIC_CLIENT, code, redirect_uri: redirect, code_verifier: 'wrong' }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid_grant' });
  });
});

describe('browsers: DNS rebinding and CORS', () => {
  let env: Environment;
  beforeAll(async () => {
    env = await startEnvironment();
  });
  afterAll(() => env?.teardown());

  it('a foreign Host is refused with 403 even without an Origin, and nothing runs', async () => {
    const before = await snapshotChat(env.db.pool);
    const res = await rawPost(env.server.mcpUrl, { host: 'evil.example.com', ...bearer(env.token) }, toolCall('chat_send_message', { room_id: env.fixture.rooms.community, content: 'rebound' }));
    expect(res.status).toBe(403);
    expect(JSON.parse(res.text).error.message).toMatch(/Invalid Host/);
    expect(await snapshotChat(env.db.pool)).toBe(before);
  });

  it.each([
    ['Host localhost on another port', { host: 'localhost:9999' }],
    ['Host [::1]', { host: '[::1]:1' }],
    ['a localhost Origin on any port', { origin: 'http://localhost:5173' }],
    ['a 127.0.0.1 Origin', { origin: 'http://127.0.0.1:3000' }],
  ])('%s is accepted', async (_label, headers) => {
    const res = await rawPost(env.server.mcpUrl, { ...headers, ...bearer(env.token) }, initialize);
    expect(res.status).toBe(200);
  });

  it('a CORS preflight from the MCP Inspector is answered 204 with the headers a browser needs, before any token', async () => {
    const res = await fetch(env.server.mcpUrl, {
      method: 'OPTIONS',
      headers: { origin: INSPECTOR, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, mcp-protocol-version' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(INSPECTOR);
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toEqual(expect.stringContaining('authorization'));
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toEqual(expect.stringContaining('mcp-protocol-version'));
  });

  it('the 401 a browser client gets is readable: allow-origin set and WWW-Authenticate exposed; the metadata is readable from any page', async () => {
    const res = await postRpc(env.server.mcpUrl, initialize, { origin: INSPECTOR });
    expect(res.status).toBe(401);
    expect(res.headers.get('access-control-allow-origin')).toBe(INSPECTOR);
    expect(res.headers.get('access-control-expose-headers')).toContain('WWW-Authenticate');
    const prm = await fetch(`${env.server.url}/.well-known/oauth-protected-resource/mcp`, { headers: { origin: INSPECTOR } });
    expect(prm.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('a preflight from a foreign origin gets 403 and no allow-origin', async () => {
    const res = await fetch(env.server.mcpUrl, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(res.status).toBe(403);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});
