import { CLIENT_KINDS, connect, type ConnectedClient, type ToolResult } from './support/clients';
import { AGENT, ALICE } from './support/chat-fixture';
import { startEnvironment, type Environment } from './support/environment';

const TEN_TOOLS = [
  'chat_list_rooms',
  'chat_get_messages',
  'chat_send_message',
  'chat_delete_message',
  'chat_list_members',
  'chat_mute_user',
  'chat_unmute_user',
  'chat_ban_user',
  'chat_unban_user',
  'chat_list_bans',
];

let env: Environment;
let client: ConnectedClient;

beforeAll(async () => {
  env = await startEnvironment();
  client = await connect('sdk-v2 legacy (2025-11-25)', env.server.mcpUrl, env.token);
});

afterAll(async () => {
  await client?.close();
  await env?.teardown();
});

function ok(result: ToolResult): Record<string, unknown> {
  if (result.isError) throw new Error(`tool failed: ${result.content[0]?.text}`);
  expect(result.structuredContent).toBeDefined();
  return result.structuredContent!;
}

function errorText(result: ToolResult): string {
  expect(result.isError).toBe(true);
  return result.content.map((c) => c.text).join(' ');
}

describe.each(CLIENT_KINDS)('a %s client', (kind) => {
  it('connects, lists exactly the ten tools with their schemas, and calls one', async () => {
    const c = await connect(kind, env.server.mcpUrl, env.token);
    try {
      expect(c.protocolVersion()).toBe(kind.includes('2026-07-28') ? '2026-07-28' : '2025-11-25');
      const { tools } = await c.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual([...TEN_TOOLS].sort());
      for (const t of tools) {
        expect(t.title).toEqual(expect.any(String));
        expect(t.inputSchema).toMatchObject({ type: 'object' });
        expect(t.outputSchema).toMatchObject({ type: 'object' });
        expect(t.annotations).toEqual(expect.objectContaining({ readOnlyHint: expect.any(Boolean), destructiveHint: expect.any(Boolean) }));
      }
      const rooms = ok(await c.callTool('chat_list_rooms', {})).rooms as { name: string }[];
      expect(rooms.map((r) => r.name).sort()).toEqual(['Phenom Community', 'Phenom Internal', 'Phenom Partners']);
    } finally {
      await c.close();
    }
  });
});

describe('the chat tools against PostgreSQL', () => {
  it('sends text and phenom_link messages as the agent and reads them back newest first with sender and preview', async () => {
    const room = env.fixture.rooms.internal;
    await env.db.pool.query(`INSERT INTO link_previews (url, phenom_id, title) VALUES ('https://thephenom.app/p/abc', 'abc', 'A Phenom')`);
    const text = ok(await client.callTool('chat_send_message', { room_id: room, content: 'hello from the agent' })).message as Record<string, unknown>;
    const link = ok(await client.callTool('chat_send_message', { room_id: room, content: 'look', message_type: 'phenom_link', phenom_id: 'abc' })).message as Record<string, unknown>;
    expect(text).toMatchObject({ room_id: room, sender: { id: AGENT, display_name: 'MCP Agent' }, message_type: 'text', phenom_id: null, is_deleted: false });
    const { messages } = ok(await client.callTool('chat_get_messages', { room_id: room, limit: 2 })) as { messages: Record<string, unknown>[] };
    expect(messages.map((m) => m.id)).toEqual([link.id, text.id]);
    expect(messages[0]).toMatchObject({
      message_type: 'phenom_link',
      phenom_id: 'abc',
      link_preview: { phenom_id: 'abc', url: 'https://thephenom.app/p/abc', title: 'A Phenom', description: null, thumbnail_url: null, media_type: null },
    });
    const { rows } = await env.db.pool.query('SELECT user_id, content FROM chat_messages WHERE id = $1', [text.id]);
    expect(rows).toEqual([{ user_id: AGENT, content: 'hello from the agent' }]);
  });

  it('a ban a human admin put on the agent shows up as a send error, and only a human lifts it', async () => {
    const room = env.fixture.rooms.partners;
    await env.db.pool.query(`INSERT INTO chat_bans (room_id, user_id, banned_by, reason) VALUES ($1, $2, $3, 'by a human')`, [room, AGENT, ALICE]);
    expect(errorText(await client.callTool('chat_send_message', { room_id: room, content: 'while banned' }))).toMatch(/banned/);
    expect(errorText(await client.callTool('chat_unban_user', { room_id: room, user_id: AGENT }))).toMatch(/cannot lift its own ban/);
    await env.db.pool.query('DELETE FROM chat_bans WHERE room_id = $1 AND user_id = $2', [room, AGENT]);
    ok(await client.callTool('chat_send_message', { room_id: room, content: 'after unban' }));
  });

  it('lists only bans in force: an expired ban is history, not a ban', async () => {
    const room = env.fixture.rooms.community;
    await env.db.pool.query(
      `INSERT INTO chat_bans (room_id, user_id, banned_by, reason, banned_at, expires_at) VALUES ($1, 'user-bob', $2, 'over', now() - interval '2 hours', now() - interval '1 hour')`,
      [room, AGENT],
    );
    expect(ok(await client.callTool('chat_list_bans', { room_id: room }))).toEqual({ bans: [], next_cursor: null });
  });

  it('a non-member agent gets not_member from chat_send_message', async () => {
    const room = env.fixture.rooms.internal;
    await env.db.pool.query('DELETE FROM chat_members WHERE room_id = $1 AND user_id = $2', [room, AGENT]);
    try {
      expect(errorText(await client.callTool('chat_send_message', { room_id: room, content: 'hi' }))).toMatch(/not a member/);
    } finally {
      await env.db.pool.query(`INSERT INTO chat_members (room_id, user_id, role) VALUES ($1, $2, 'admin')`, [room, AGENT]);
    }
  });

  it('paging with before walks a whole room with no duplicates and no gaps, even across equal timestamps', async () => {
    const room = env.fixture.rooms.partners;
    await env.db.pool.query('DELETE FROM chat_messages WHERE room_id = $1', [room]);
    // 3 statements: within each, every row shares one now(), so only the id tie-breaker orders them.
    for (let batch = 0; batch < 3; batch++) {
      await env.db.pool.query(`INSERT INTO chat_messages (room_id, user_id, content) SELECT $1, $2, 'm' || $3 || '-' || g FROM generate_series(1, 79) g`, [room, AGENT, batch]);
    }
    await env.db.pool.query(`UPDATE chat_messages SET is_deleted = true WHERE room_id = $1 AND content LIKE 'm1-1%'`, [room]);
    for (const includeDeleted of [false, true]) {
      const seen: string[] = [];
      let before: string | undefined;
      let pages = 0;
      do {
        const page = ok(await client.callTool('chat_get_messages', { room_id: room, limit: 50, include_deleted: includeDeleted, ...(before ? { before } : {}) })) as {
          messages: { id: string }[];
          next_cursor: string | null;
        };
        seen.push(...page.messages.map((m) => m.id));
        before = page.next_cursor ?? undefined;
        pages++;
      } while (before && pages < 20);
      const { rows } = await env.db.pool.query<{ id: string }>(`SELECT id FROM chat_messages WHERE room_id = $1 AND ($2 OR NOT is_deleted) ORDER BY created_at DESC, id DESC`, [room, includeDeleted]);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual(rows.map((r) => r.id));
      expect(pages).toBe(Math.ceil(rows.length / 50));
    }
  });
});

describe('endpoints and logs', () => {
  it.each(['/health', '/mcp/health'])('%s answers 200 and says the backend is reachable', async (path) => {
    const res = await fetch(env.server.url + path);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', backend: 'reachable' });
  });

  it('publishes RFC 9728 protected-resource metadata for /mcp', async () => {
    const res = await fetch(`${env.server.url}/.well-known/oauth-protected-resource/mcp`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      resource: env.server.mcpUrl,
      authorization_servers: [env.issuer.issuer],
      scopes_supported: ['chat/read', 'chat/moderate'],
      bearer_methods_supported: ['header'],
      resource_name: expect.any(String),
    });
  });

  it('logs JSON with request id, tool, latency and outcome, and never the token or a message body', async () => {
    const secretBody = `confidential-body-${Date.now()}`;
    ok(await client.callTool('chat_send_message', { room_id: env.fixture.rooms.community, content: secretBody }));
    await new Promise((r) => setTimeout(r, 100));
    const toolLines = env.server.logs.filter((l) => l.msg === 'tool call' && l.tool === 'chat_send_message');
    expect(toolLines.at(-1)).toEqual(expect.objectContaining({ level: 'info', requestId: expect.any(String), outcome: 'ok', latencyMs: expect.any(Number) }));
    const access = env.server.logs.filter((l) => l.msg === 'request' && l.tool === 'chat_send_message');
    expect(access.at(-1)).toEqual(expect.objectContaining({ requestId: expect.any(String), status: 200, latencyMs: expect.any(Number), clientId: 'agent-client-1', outcome: 'ok' }));
    expect(env.server.output()).not.toContain(secretBody);
    expect(env.server.output()).not.toContain(env.token.split('.')[2]);
  });
});
