import { CHAT_ROOMS as BOOTSTRAP_ROOMS, BotCredentials, bootstrapSynapse } from '../../../../lambda/synapse-bootstrap/bootstrap';
import { MatrixClient as BootstrapClient } from '../../../../chat-clients/matrix-client';
import { Account, call, enc, REAL_SYNAPSE, registerAccount, serverNameOf, startTestHomeserver, TestHomeserver } from '../../../../test/support/matrix-test-server';
import type { TestDatabase } from '../../../../test/support/postgres';
import { createMigratedDatabase } from '../../../../test/support/postgres/migrated';
import { startLocalIssuer, type LocalIssuer } from '../../src/auth/local-issuer';
import { liftExpired } from '../../../../chat-clients/matrix-moderation-expiry';
import { MatrixClient as McpMatrixClient } from '../../../../chat-clients/matrix-client';
import { AGENT, ALICE, seedChat } from '../support/chat-fixture';
import { connect, type ConnectedClient, type ToolResult } from '../support/clients';
import { CognitoStandIn } from '../support/cognito-standin';
import { HasuraStandIn } from '../support/hasura-standin';
import { buildServerBundle, startServerProcess, type ServerProcess } from '../support/server-process';

/**
 * The real server bundle (the file the image runs) with BACKEND_TYPE=hasura and =synapse, configured
 * only through the environment names the ECS task definition sets, against the stand-ins at the
 * network boundary. Proves the backends plug into the tool layer and read the agreed keys.
 */
const AGENT_CLIENT = 'agent-client-1';

function ok(result: ToolResult): Record<string, unknown> {
  if (result.isError) throw new Error(`tool failed: ${result.content[0]?.text}`);
  return result.structuredContent!;
}

let bundle: string;
let issuer: LocalIssuer;
beforeAll(async () => {
  bundle = buildServerBundle();
  issuer = await startLocalIssuer();
});
afterAll(() => issuer?.close());

const inbound = () => ({ COGNITO_USER_POOL_ID: issuer.userPoolId, COGNITO_JWKS_URL: issuer.jwksUrl, ALLOWED_CLIENT_IDS: AGENT_CLIENT, SHUTDOWN_GRACE_MS: '2000' });
const token = () => issuer.mint({ clientId: AGENT_CLIENT, scopes: ['chat/read', 'chat/moderate'] });

describe('the server with BACKEND_TYPE=hasura', () => {
  const CLIENT_ID = 'agentclient0000000000000001';
  const SECRET = 'agent-client-secret';
  const PASSWORD = 'Agent-Passw0rd!';
  let db: TestDatabase;
  let cognito: CognitoStandIn;
  let hasura: HasuraStandIn;
  let server: ServerProcess;
  let client: ConnectedClient;
  let rooms: { internal: string; community: string };

  beforeAll(async () => {
    db = await createMigratedDatabase('mcphasura');
    rooms = (await seedChat(db.pool)).rooms;
    cognito = new CognitoStandIn({ clientId: CLIENT_ID, clientSecret: SECRET, loginName: 'agent@chat.test', password: PASSWORD, sub: AGENT, nowSeconds: () => Math.floor(Date.now() / 1000) });
    await cognito.start();
    hasura = new HasuraStandIn({ pool: db.pool, cognito });
    await hasura.start();
    server = await startServerProcess(bundle, {
      ...inbound(),
      BACKEND_TYPE: 'hasura',
      HASURA_ENDPOINT: hasura.url,
      COGNITO_IDP_ENDPOINT: cognito.url,
      AGENT_CLIENT_ID: CLIENT_ID,
      AGENT_CLIENT_SECRET: SECRET,
      AGENT_USERNAME: 'agent@chat.test',
      AGENT_PASSWORD: PASSWORD,
    });
    client = await connect('sdk-v2 legacy (2025-11-25)', server.mcpUrl, token());
  });
  afterAll(async () => {
    await client?.close();
    await server?.stop();
    await hasura?.stop();
    await cognito?.stop();
    await db?.drop();
  });

  it('serves the tools through Hasura as the agent, with the chat rules as tool errors', async () => {
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const { rooms: listed } = ok(await client.callTool('chat_list_rooms', {})) as { rooms: Array<{ name: string; member_count: number }> };
    expect(listed.map((r) => [r.name, r.member_count])).toEqual(expect.arrayContaining([['Phenom Community', 3]]));
    const sent = ok(await client.callTool('chat_send_message', { room_id: rooms.internal, content: 'via hasura' })).message as { id: string; sender: { id: string } };
    expect(sent.sender.id).toBe(AGENT);
    const { messages } = ok(await client.callTool('chat_get_messages', { room_id: rooms.internal, limit: 5 })) as { messages: Array<{ id: string }> };
    expect(messages[0]!.id).toBe(sent.id);
    ok(await client.callTool('chat_mute_user', { room_id: rooms.community, user_id: ALICE, minutes: 5 }));
    await db.pool.query('UPDATE chat_members SET is_muted = true WHERE room_id = $1 AND user_id = $2', [rooms.community, AGENT]);
    const muted = await client.callTool('chat_send_message', { room_id: rooms.community, content: 'am I muted?' });
    expect(muted.isError).toBe(true);
    expect(muted.content[0]!.text).toMatch(/muted/);
    expect(cognito.calls.filter((c) => c.flow === 'USER_PASSWORD_AUTH')).toHaveLength(1);
    expect(server.output()).not.toContain(PASSWORD);
  });
});

// BACKEND_TYPE=synapse against a real Synapse when SYNAPSE_URL and SYNAPSE_SHARED_SECRET are set (else the
// stand-in); this run's rooms and users carry the run's tag, so a real server can be reused.
describe(`the server with BACKEND_TYPE=synapse (${REAL_SYNAPSE ? `real Synapse at ${process.env.SYNAPSE_URL}` : 'stand-in homeserver'})`, () => {
  let hs: TestHomeserver;
  let server: ServerProcess;
  let client: ConnectedClient;
  let bot: Account;
  let roomIds: string[];

  beforeAll(async () => {
    hs = await startTestHomeserver();
    let stored: BotCredentials | undefined;
    const boot = await bootstrapSynapse({
      client: new BootstrapClient({ baseUrl: hs.baseUrl }),
      sharedSecret: hs.sharedSecret,
      bot: { localpart: `tools-bot-${hs.tag}`, password: `bot-password-${hs.tag}-0123456789`, displayName: 'Phenom Bot' },
      rooms: BOOTSTRAP_ROOMS.map((r) => ({ ...r, alias: `${r.alias}-${hs.tag}` })),
      store: { load: async () => stored, save: async (c) => void (stored = c) },
    });
    bot = { userId: stored!.userId, token: stored!.accessToken };
    roomIds = boot.rooms.map((r) => r.roomId);
    server = await startServerProcess(bundle, {
      ...inbound(),
      BACKEND_TYPE: 'synapse',
      SYNAPSE_URL: hs.baseUrl,
      SYNAPSE_BOT_ACCESS_TOKEN: bot.token,
      MATRIX_SERVER_NAME: serverNameOf(bot.userId),
      MATRIX_ROOM_ALIASES: BOOTSTRAP_ROOMS.map((r) => `${r.alias}-${hs.tag}`).join(','),
    });
    client = await connect('sdk-v2 legacy (2025-11-25)', server.mcpUrl, token());
  });
  afterAll(async () => {
    await client?.close();
    await server?.stop();
    await hs?.close();
  });

  it('serves the tools through the Matrix client API as the bot, on the bootstrap’s rooms', async () => {
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const { rooms } = ok(await client.callTool('chat_list_rooms', {})) as { rooms: Array<{ id: string; name: string }> };
    expect(rooms.map((r) => r.name)).toEqual(['Phenom Community', 'Phenom Internal', 'Phenom Partners']);
    const internal = rooms.find((r) => r.name === 'Phenom Internal')!.id;
    const sent = ok(await client.callTool('chat_send_message', { room_id: internal, content: 'via matrix' })).message as { id: string };
    expect(sent.id.startsWith(`${internal}/$`)).toBe(true); // the room, then the Matrix event id
    ok(await client.callTool('chat_delete_message', { room_id: internal, message_id: sent.id }));
    const { messages } = ok(await client.callTool('chat_get_messages', { room_id: internal, limit: 5 })) as { messages: unknown[] };
    expect(messages).toEqual([]);
    const unknown = await client.callTool('chat_list_members', { room_id: '!nope:chat.test' });
    expect(unknown.isError).toBe(true);
    expect(unknown.content[0]!.text).toMatch(/room not found/i);
    expect(server.output()).not.toContain(bot.token);
  });

  it('all ten tools: list, send, read, delete, members, timed mute and ban that the one scheduled job lifts, list bans, unmute, unban', async () => {
    const { rooms } = ok(await client.callTool('chat_list_rooms', {})) as { rooms: Array<{ id: string; name: string }> };
    expect(rooms.map((r) => r.name)).toEqual(['Phenom Community', 'Phenom Internal', 'Phenom Partners']);
    const community = rooms.find((r) => r.name === 'Phenom Community')!.id;
    const alice = await registerAccount(hs, `tools-alice-${hs.tag}`, false, 'Alice');
    const carol = await registerAccount(hs, `tools-carol-${hs.tag}`, false, 'Carol');
    for (const user of [alice, carol]) {
      expect((await call(hs, bot.token, 'POST', `/_matrix/client/v3/rooms/${enc(community)}/invite`, { user_id: user.userId })).status).toBe(200);
      expect((await call(hs, user.token, 'POST', `/_matrix/client/v3/rooms/${enc(community)}/join`, {})).status).toBe(200);
    }
    const say = (who: Account, text: string) =>
      call(hs, who.token, 'PUT', `/_matrix/client/v3/rooms/${enc(community)}/send/m.room.message/${enc(`${text}-${hs.tag}`)}`, { msgtype: 'm.text', body: text });

    const sent = (ok(await client.callTool('chat_send_message', { room_id: community, content: 'hello from the agent' })).message as { id: string }).id;
    const { messages } = ok(await client.callTool('chat_get_messages', { room_id: community, limit: 5 })) as { messages: Array<{ id: string; content: string }> };
    expect(messages[0]).toMatchObject({ id: sent, content: 'hello from the agent' });
    expect(ok(await client.callTool('chat_delete_message', { room_id: community, message_id: sent }))).toMatchObject({ already_deleted: false });
    const { members } = ok(await client.callTool('chat_list_members', { room_id: community, limit: 100 })) as { members: Array<{ user_id: string; role: string }> };
    expect(members.map((m) => m.user_id).sort()).toEqual([alice.userId, bot.userId, carol.userId].sort());

    const muted = ok(await client.callTool('chat_mute_user', { room_id: community, user_id: alice.userId, minutes: 1 })).member as { is_muted: boolean; muted_until: string };
    expect(muted.is_muted).toBe(true);
    expect((await say(alice, 'muted?')).status).toBe(403);
    const ban = ok(await client.callTool('chat_ban_user', { room_id: community, user_id: carol.userId, reason: 'cool down', minutes: 1 })).ban as { expires_at: string };
    expect(Date.parse(ban.expires_at) - Date.now()).toBeGreaterThan(30_000);
    const { bans } = ok(await client.callTool('chat_list_bans', { room_id: community })) as { bans: Array<{ user_id: string; expires_at: string | null }> };
    expect(bans).toEqual([expect.objectContaining({ user_id: carol.userId, expires_at: ban.expires_at })]);

    // The scheduled job's lifting code, as if two minutes had passed: the homeserver then lets them back.
    const lifted = await liftExpired(new McpMatrixClient({ baseUrl: hs.baseUrl, accessToken: bot.token }), roomIds, Date.now() + 2 * 60_000);
    expect(lifted).toEqual({
      lifted: [
        { roomId: community, userId: alice.userId, kind: 'mute' },
        { roomId: community, userId: carol.userId, kind: 'ban' },
      ],
      cleared: [],
      failures: [],
    });
    expect((await say(alice, 'free again')).status).toBe(200);
    expect(ok(await client.callTool('chat_list_bans', { room_id: community }))).toMatchObject({ bans: [] });

    // And by hand, open-ended.
    ok(await client.callTool('chat_mute_user', { room_id: community, user_id: alice.userId }));
    expect(ok(await client.callTool('chat_unmute_user', { room_id: community, user_id: alice.userId })).member).toMatchObject({ is_muted: false });
    expect((await say(alice, 'after unmute')).status).toBe(200);
    expect((await call(hs, bot.token, 'POST', `/_matrix/client/v3/rooms/${enc(community)}/invite`, { user_id: carol.userId })).status).toBe(200);
    expect((await call(hs, carol.token, 'POST', `/_matrix/client/v3/rooms/${enc(community)}/join`, {})).status).toBe(200);
    ok(await client.callTool('chat_ban_user', { room_id: community, user_id: carol.userId, reason: 'for good' }));
    expect(ok(await client.callTool('chat_unban_user', { room_id: community, user_id: carol.userId }))).toEqual({ room_id: community, user_id: carol.userId, was_banned: true });
    expect(server.output()).not.toContain(bot.token);
  });
});
