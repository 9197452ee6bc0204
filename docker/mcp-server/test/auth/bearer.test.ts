import { generateKeyPairSync } from 'node:crypto';
import { signJwt } from '../../src/auth/local-issuer';
import { freeLoopbackPort } from '../../../../test/support/net';
import { AGENT, snapshotChat } from '../support/chat-fixture';
import { AGENT_CLIENT, startEnvironment, type Environment } from '../support/environment';
import { buildServerBundle, startServerProcess, type ServerProcess } from '../support/server-process';
import { bearer, postRpc, toolCall } from '../support/raw-rpc';

const SECOND_CLIENT = 'agent-client-2';
let env: Environment;

beforeAll(async () => {
  env = await startEnvironment({
    ALLOWED_CLIENT_IDS: `${AGENT_CLIENT},${SECOND_CLIENT}`,
    ALLOWED_ORIGINS: 'https://chat.example.test',
    RATE_LIMIT_BURST: '40',
    RATE_LIMIT_PER_MINUTE: '60',
  });
});
afterAll(() => env?.teardown());

const send = () => toolCall('chat_send_message', { room_id: env.fixture.rooms.community, content: 'should never be stored' });
const metadataUrl = () => `${env.server.url}/.well-known/oauth-protected-resource/mcp`;

describe('401: no valid token, nothing executed', () => {
  const badTokens: [string, () => string][] = [
    ['no token', () => ''],
    ['a malformed token', () => 'not-a-jwt'],
    ['an expired token', () => env.issuer.mint({ clientId: AGENT_CLIENT, scopes: ['chat/read', 'chat/moderate'], overrides: { exp: Math.floor(Date.now() / 1000) - 60 } })],
    [
      'a token from another user pool (wrong issuer)',
      () => env.issuer.mint({ clientId: AGENT_CLIENT, scopes: ['chat/read', 'chat/moderate'], overrides: { iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other999' } }),
    ],
    ['a token for a client not on the allow-list', () => env.issuer.mint({ clientId: 'some-other-client', scopes: ['chat/read', 'chat/moderate'] })],
    ['an ID token instead of an access token', () => env.issuer.mint({ clientId: AGENT_CLIENT, scopes: ['chat/read', 'chat/moderate'], overrides: { token_use: 'id', aud: AGENT_CLIENT } })],
    ['a token for another resource (aud is not ours)', () => env.issuer.mint({ clientId: AGENT_CLIENT, scopes: ['chat/read', 'chat/moderate'], overrides: { aud: 'https://other.example/mcp' } })],
    ['a token whose audiences do not include ours', () => env.issuer.mint({ clientId: AGENT_CLIENT, scopes: ['chat/read', 'chat/moderate'], overrides: { aud: ['https://a.example/mcp', 'chat'] } })],
    ['a token issued 10 minutes in the future', () => env.issuer.mint({ clientId: AGENT_CLIENT, scopes: ['chat/read', 'chat/moderate'], overrides: { iat: Math.floor(Date.now() / 1000) + 600 } })],
    [
      'a token signed by a key not in the JWKS',
      () => {
        const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
        const now = Math.floor(Date.now() / 1000);
        return signJwt(
          { iss: env.issuer.issuer, token_use: 'access', client_id: AGENT_CLIENT, sub: AGENT_CLIENT, scope: 'chat/read chat/moderate', iat: now, exp: now + 600 },
          privateKey,
          'unknown-kid',
        );
      },
    ],
  ];

  it.each(badTokens)('%s gets 401 with a resource_metadata challenge', async (_label, token) => {
    const before = await snapshotChat(env.db.pool);
    const t = token();
    const res = await postRpc(env.server.mcpUrl, send(), t ? bearer(t) : {});
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer /);
    expect(challenge).toContain(`resource_metadata="${metadataUrl()}"`);
    if (t) expect(challenge).toContain('error="invalid_token"');
    expect(await snapshotChat(env.db.pool)).toBe(before);
  });

  it('no bearer credentials (no header, or another scheme) get a challenge without an error code (RFC 6750 §3.1) that names the scope to ask for', async () => {
    for (const headers of [{}, { authorization: 'Basic YWdlbnQ6c2VjcmV0' }] as Record<string, string>[]) {
      const res = await postRpc(env.server.mcpUrl, send(), headers);
      expect(res.status).toBe(401);
      const challenge = res.headers.get('www-authenticate') ?? '';
      expect(challenge).toBe(`Bearer resource_metadata="${metadataUrl()}", scope="chat/read"`);
    }
  });

  it('a bearer token with characters no JWT has is an invalid token (one was sent), with a properly quoted challenge', async () => {
    const res = await postRpc(env.server.mcpUrl, send(), { authorization: 'Bearer not"a%jwt' });
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer error="invalid_token", error_description="[^"\\]*(\\.[^"\\]*)*", resource_metadata="/);
    expect(JSON.parse(res.text)).toMatchObject({ error: 'invalid_token' });
  });

  it('the challenge points at metadata that names the issuer as authorization server', async () => {
    const res = await fetch(metadataUrl());
    expect(((await res.json()) as { authorization_servers: string[] }).authorization_servers).toEqual([env.issuer.issuer]);
  });
});

describe('while the token signing keys cannot be fetched', () => {
  let outage: ServerProcess;
  beforeAll(async () => {
    // Same database and issuer, but a JWKS URL on a loopback port where nothing listens.
    outage = await startServerProcess(buildServerBundle(), {
      BACKEND_TYPE: 'postgres',
      DATABASE_URL: env.db.url,
      AGENT_USER_ID: AGENT,
      COGNITO_USER_POOL_ID: env.issuer.userPoolId,
      COGNITO_JWKS_URL: `http://127.0.0.1:${await freeLoopbackPort()}/.well-known/jwks.json`,
      ALLOWED_CLIENT_IDS: AGENT_CLIENT,
    });
  });
  afterAll(() => outage?.stop());

  it('answers 503 with retry-after (not 401: the token may be fine) and runs nothing', async () => {
    const before = await snapshotChat(env.db.pool);
    const res = await postRpc(outage.mcpUrl, send(), bearer(env.token));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(await snapshotChat(env.db.pool)).toBe(before);
  });
});

describe('token claims that are accepted', () => {
  const mint = (overrides: Record<string, unknown>) => env.issuer.mint({ clientId: AGENT_CLIENT, scopes: ['chat/read'], overrides });
  it.each([
    ['no aud (Cognito access tokens carry none)', () => ({})],
    ['aud naming this resource (RFC 8707 resource-bound)', () => ({ aud: env.server.mcpUrl })],
    ['aud as a list that includes this resource', () => ({ aud: ['https://a.example/mcp', env.server.mcpUrl] })],
    ['an iat 20 s ahead (clock skew)', () => ({ iat: Math.floor(Date.now() / 1000) + 20 })],
  ])('%s', async (_label, overrides) => {
    const res = await postRpc(env.server.mcpUrl, toolCall('chat_list_rooms', {}), bearer(mint(overrides())));
    expect(res.status).toBe(200);
  });
});

describe('403: scopes', () => {
  const readOnly = () => env.issuer.mint({ clientId: AGENT_CLIENT, scopes: ['chat/read'] });

  it.each([
    ['chat_send_message', () => ({ room_id: env.fixture.rooms.community, content: 'x' })],
    ['chat_delete_message', () => ({ room_id: env.fixture.rooms.community, message_id: '00000000-0000-0000-0000-000000000000' })],
    ['chat_mute_user', () => ({ room_id: env.fixture.rooms.community, user_id: 'user-alice' })],
    ['chat_unmute_user', () => ({ room_id: env.fixture.rooms.community, user_id: 'user-alice' })],
    ['chat_ban_user', () => ({ room_id: env.fixture.rooms.community, user_id: 'user-alice', reason: 'x' })],
    ['chat_unban_user', () => ({ room_id: env.fixture.rooms.community, user_id: 'user-alice' })],
    ['chat_get_messages', () => ({ room_id: env.fixture.rooms.community, include_deleted: true })],
  ])('%s without the moderate scope gets 403 insufficient_scope and changes nothing', async (tool, args) => {
    const before = await snapshotChat(env.db.pool);
    const res = await postRpc(env.server.mcpUrl, toolCall(tool, args()), bearer(readOnly()));
    expect(res.status).toBe(403);
    const challenge = res.headers.get('www-authenticate') ?? '';
    expect(challenge).toContain('error="insufficient_scope"');
    expect(challenge).toContain('scope="chat/moderate"');
    expect(challenge).toContain(`resource_metadata="${metadataUrl()}"`);
    expect(await snapshotChat(env.db.pool)).toBe(before);
  });

  it('read tools work with only the read scope', async () => {
    const res = await postRpc(env.server.mcpUrl, toolCall('chat_list_rooms', {}), bearer(readOnly()));
    expect(res.status).toBe(200);
    expect(res.text).toContain('Phenom Community');
  });

  it('a token with neither chat scope gets 403 for any MCP request', async () => {
    const none = env.issuer.mint({ clientId: AGENT_CLIENT, scopes: ['openid'] });
    const res = await postRpc(env.server.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, bearer(none));
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('scope="chat/read"');
  });

  it('the chat-support group may moderate without the moderate scope', async () => {
    const support = env.issuer.mint({ clientId: AGENT_CLIENT, scopes: ['chat/read'], groups: ['chat-support'] });
    const res = await postRpc(env.server.mcpUrl, toolCall('chat_unmute_user', { room_id: env.fixture.rooms.community, user_id: 'user-alice' }), bearer(support));
    expect(res.status).toBe(200);
    expect(res.text).toContain('no longer muted');
  });
});

describe('JSON-RPC batches (MCP 2025-11-25 has none)', () => {
  const readOnly = () => env.issuer.mint({ clientId: AGENT_CLIENT, scopes: ['chat/read'] });
  const community = () => env.fixture.rooms.community;
  const WRITE_CALLS: [string, () => Record<string, unknown>][] = [
    ['chat_send_message', () => ({ room_id: community(), content: 'sent through a batch' })],
    ['chat_delete_message', () => ({ room_id: community(), message_id: '00000000-0000-0000-0000-000000000000' })],
    ['chat_mute_user', () => ({ room_id: community(), user_id: 'user-alice', minutes: 30 })],
    ['chat_unmute_user', () => ({ room_id: community(), user_id: 'user-alice' })],
    ['chat_ban_user', () => ({ room_id: community(), user_id: 'user-alice', reason: 'batch' })],
    ['chat_unban_user', () => ({ room_id: community(), user_id: 'user-alice' })],
  ];

  it.each(WRITE_CALLS)('a read-only token cannot run %s inside a batch: 400 Invalid Request, nothing written', async (tool, args) => {
    const before = await snapshotChat(env.db.pool);
    const res = await postRpc(env.server.mcpUrl, [toolCall(tool, args())], bearer(readOnly()));
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32600, message: expect.stringMatching(/batch/i) } });
    expect(res.text).not.toContain('sent through a batch');
    expect(await snapshotChat(env.db.pool)).toBe(before);
  });

  it('a full-scope token cannot batch either (one request is one call against the rate limit), whatever the protocol version', async () => {
    const before = await snapshotChat(env.db.pool);
    const batch = [toolCall('chat_send_message', { room_id: community(), content: 'batched 1' }, 1), toolCall('chat_send_message', { room_id: community(), content: 'batched 2' }, 2)];
    for (const version of ['2025-11-25', '2025-06-18', '2025-03-26']) {
      const res = await postRpc(env.server.mcpUrl, batch, { ...bearer(env.token), 'mcp-protocol-version': version });
      expect(res.status).toBe(400);
      expect(JSON.parse(res.text).error.code).toBe(-32600);
    }
    expect(await snapshotChat(env.db.pool)).toBe(before);
  });
});

describe('request hygiene', () => {
  it('rejects a browser Origin that is not allowed (DNS rebinding) and accepts an allowed one', async () => {
    const before = await snapshotChat(env.db.pool);
    const evil = await postRpc(env.server.mcpUrl, send(), { ...bearer(env.token), origin: 'http://evil.example' });
    expect(evil.status).toBe(403);
    expect(await snapshotChat(env.db.pool)).toBe(before);
    const good = await postRpc(env.server.mcpUrl, toolCall('chat_list_rooms', {}), { ...bearer(env.token), origin: 'https://chat.example.test' });
    expect(good.status).toBe(200);
  });

  it('refuses a body over the size limit with 413', async () => {
    const huge = JSON.stringify(toolCall('chat_send_message', { room_id: env.fixture.rooms.community, content: 'x'.repeat(70 * 1024) }));
    const before = await snapshotChat(env.db.pool);
    const res = await postRpc(env.server.mcpUrl, huge, bearer(env.token));
    expect(res.status).toBe(413);
    expect(await snapshotChat(env.db.pool)).toBe(before);
  });

  it('answers invalid JSON with a JSON-RPC parse error', async () => {
    const res = await postRpc(env.server.mcpUrl, '{"jsonrpc":', bearer(env.token));
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error.code).toBe(-32700);
  });

  it('refuses a body that is not valid UTF-8 with a parse error instead of storing U+FFFD, and writes nothing', async () => {
    const before = await snapshotChat(env.db.pool);
    const json = JSON.stringify(toolCall('chat_send_message', { room_id: env.fixture.rooms.community, content: 'bad byte: @' }));
    // 0xC3 0x28: a two-byte lead followed by a non-continuation byte, which a lenient decoder turns into U+FFFD.
    const body = Buffer.concat([Buffer.from(json.slice(0, json.indexOf('@'))), Buffer.from([0xc3, 0x28]), Buffer.from(json.slice(json.indexOf('@') + 1))]);
    const res = await fetch(env.server.mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25', ...bearer(env.token) },
      body,
    });
    expect(res.status).toBe(400);
    const answer = (await res.json()) as { error: { code: number; message: string } };
    expect(answer.error.code).toBe(-32700);
    expect(answer.error.message).toMatch(/UTF-8/);
    expect(await snapshotChat(env.db.pool)).toBe(before);
  });

  it('rate-limits per agent with 429 and Retry-After, without touching other agents', async () => {
    const first = env.issuer.mint({ clientId: AGENT_CLIENT, scopes: ['chat/read'] });
    // Drain the first agent's burst (40, shared with the requests above) …
    let limited: { status: number; headers: Headers } | undefined;
    for (let i = 0; i < 60 && !limited; i++) {
      const res = await postRpc(env.server.mcpUrl, { jsonrpc: '2.0', id: i, method: 'ping' }, bearer(first));
      if (res.status === 429) limited = res;
      else expect(res.status).toBe(200);
    }
    expect(limited?.status).toBe(429);
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // … while a second agent still has its own bucket.
    const second = env.issuer.mint({ clientId: SECOND_CLIENT, scopes: ['chat/read'] });
    expect((await postRpc(env.server.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'ping' }, bearer(second))).status).toBe(200);
  });
});
