import { Pool } from 'pg';
import { BotCredentials, bootstrapSynapse } from '../../../../lambda/synapse-bootstrap/bootstrap';
import { MatrixClient as BootstrapClient } from '../../../../chat-clients/matrix-client';
import { MatrixHomeserver } from '../../../../test/support/matrix-homeserver';
import type { TestDatabase } from '../../../../test/support/postgres';
import { createMigratedDatabase } from '../../../../test/support/postgres/migrated';
import { HasuraBackend } from '../../src/backend/hasura/backend';
import { CognitoTokenProvider } from '../../src/backend/hasura/cognito-token';
import { HasuraClient } from '../../../../chat-clients/hasura-client';
import { PostgresBackend } from '../../src/backend/postgres/backend';
import { SynapseBackend } from '../../src/backend/synapse/backend';
import { MatrixClient } from '../../../../chat-clients/matrix-client';
import type { ChatBackend } from '../../src/backend/types';
import { createLogger } from '../../src/log';
import type { RequestContext } from '../../src/mcp/request-context';
import { callTool } from '../../src/mcp/server-factory';
import { TOOLS_BY_NAME } from '../../src/tools';
import { AGENT, ALICE, BOB, seedChat } from '../support/chat-fixture';
import { CognitoStandIn } from '../support/cognito-standin';
import { HasuraStandIn } from '../support/hasura-standin';

/**
 * One chat backend, ready for the conformance suite: the real migrated schema on PostgreSQL 17
 * (postgres, and hasura through the stand-in engine), or the stand-in homeserver set up by the real
 * Synapse bootstrap (synapse). The helpers are the test's own hands (SQL, or the Matrix API as the
 * user concerned), never the code under test.
 */
export interface BackendUnderTest {
  readonly kind: ChatBackend['kind'];
  readonly backend: ChatBackend;
  readonly rooms: { internal: string; partners: string; community: string };
  /** The agent's user id (users.id, or the bot's Matrix id). */
  readonly agent: string;
  /** Two ordinary members of the community room, neither an admin. */
  readonly alice: string;
  readonly bob: string;
  /** Adds `count` new users to `roomId` as plain members; returns their ids. */
  addMembers(roomId: string, count: number, prefix: string): Promise<string[]>;
  /** Sets the display name the backend reports for `userId` (in `roomId`, for Matrix). */
  setDisplayName(roomId: string, userId: string, name: string): Promise<void>;
  /** Makes `userId` an admin of `roomId` (chat_members.role, or power level 100). */
  makeAdmin(roomId: string, userId: string): Promise<void>;
  /**
   * Bans the agent in `roomId` as a human admin would (SQL backends only: on Matrix nobody can ban
   * the bot, whose power level is the room's highest). Returns a function that lifts the ban again.
   */
  banAgentAsHuman?(roomId: string): Promise<() => Promise<void>>;
  /** How many messages with exactly this content are stored in the room (soft-deleted rows count; a Matrix redaction erases the content). */
  storedMessages(roomId: string, content: string): Promise<number>;
  stop(): Promise<void>;
}

export const BACKEND_KINDS: ChatBackend['kind'][] = ['postgres', 'hasura', 'synapse'];

const silent = createLogger('error', {}, () => undefined);

/** What one tool call returned, as the MCP client would see it. */
export interface CallResult {
  isError?: boolean;
  text: string;
  structured?: Record<string, unknown>;
}

/** Calls a tool through the tool layer (validation, rendering, error mapping) as an agent with both scopes. */
export async function call(backend: ChatBackend, tool: string, args: Record<string, unknown>): Promise<CallResult> {
  const found = TOOLS_BY_NAME.get(tool);
  if (!found) throw new Error(`no tool ${tool}`);
  const rc: RequestContext = {
    requestId: 'conformance',
    principal: { clientId: 'agent-client', subject: 'agent-client', scopes: ['chat/read', 'chat/moderate'], groups: [], expiresAt: Math.floor(Date.now() / 1000) + 3600 },
    canModerate: true,
    log: silent,
  };
  const result = await callTool(found, args, backend, rc);
  return { isError: result.isError, text: result.content.map((c) => (c.type === 'text' ? c.text : '')).join(''), structured: result.structuredContent as Record<string, unknown> | undefined };
}

/** The structured result of a call that must succeed. */
export async function ok<T = Record<string, unknown>>(backend: ChatBackend, tool: string, args: Record<string, unknown>): Promise<T> {
  const result = await call(backend, tool, args);
  if (result.isError || !result.structured) throw new Error(`${tool} failed: ${result.text}`);
  return result.structured as T;
}

export async function startBackend(kind: ChatBackend['kind']): Promise<BackendUnderTest> {
  return kind === 'synapse' ? startSynapse() : startSql(kind);
}

async function startSql(kind: 'postgres' | 'hasura'): Promise<BackendUnderTest> {
  const db: TestDatabase = await createMigratedDatabase(`conf${kind}`);
  const { rooms } = await seedChat(db.pool);
  let backend: ChatBackend;
  let stopEngine = async () => undefined as void;
  if (kind === 'postgres') {
    const pool = new Pool({ connectionString: db.url, max: 4 });
    backend = new PostgresBackend(pool, AGENT);
  } else {
    const login = { clientId: 'agentclient0000000000000001', clientSecret: 'agent-secret', loginName: 'agent@chat.test', password: 'Agent-Passw0rd!' };
    const cognito = new CognitoStandIn({ ...login, sub: AGENT, nowSeconds: () => Math.floor(Date.now() / 1000) });
    await cognito.start();
    const hasura = new HasuraStandIn({ pool: db.pool, cognito });
    await hasura.start();
    const tokens = new CognitoTokenProvider({ endpoint: cognito.url, clientId: login.clientId, clientSecret: login.clientSecret, username: login.loginName, password: login.password });
    backend = new HasuraBackend({ client: new HasuraClient({ endpoint: hasura.url, tokens }), tokens });
    stopEngine = async () => {
      await hasura.stop();
      await cognito.stop();
    };
  }
  return {
    kind,
    backend,
    rooms,
    agent: AGENT,
    alice: ALICE,
    bob: BOB,
    async addMembers(roomId, count, prefix) {
      const { rows } = await db.pool.query<{ id: string }>(
        `INSERT INTO users (id, username, display_name) SELECT $1 || lpad(g::text, 6, '0'), $1 || g, 'Member ' || g FROM generate_series(1, $2::int) g RETURNING id`,
        [prefix, count],
      );
      await db.pool.query(`INSERT INTO chat_members (room_id, user_id) SELECT $1, unnest($2::text[])`, [roomId, rows.map((r) => r.id)]);
      return rows.map((r) => r.id);
    },
    async setDisplayName(_roomId, userId, name) {
      await db.pool.query('UPDATE users SET display_name = $2 WHERE id = $1', [userId, name]);
    },
    async makeAdmin(roomId, userId) {
      await db.pool.query(`UPDATE chat_members SET role = 'admin' WHERE room_id = $1 AND user_id = $2`, [roomId, userId]);
    },
    async banAgentAsHuman(roomId) {
      const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO chat_bans (room_id, user_id, banned_by, reason) VALUES ($1, $2, $3, 'set by a human admin') RETURNING id`, [
        roomId,
        AGENT,
        BOB,
      ]);
      return async () => void (await db.pool.query('DELETE FROM chat_bans WHERE id = $1', [rows[0]!.id]));
    },
    async storedMessages(roomId, content) {
      return (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM chat_messages WHERE room_id = $1 AND content = $2', [roomId, content])).rows[0]!.n;
    },
    async stop() {
      await backend.close();
      await stopEngine();
      await db.drop();
    },
  };
}

async function startSynapse(): Promise<BackendUnderTest> {
  const secret = 'conformance-shared-secret';
  const hs = await MatrixHomeserver.start({ serverName: 'chat.test', registrationSharedSecret: secret });
  const setup = new BootstrapClient({ baseUrl: hs.url });
  let stored: BotCredentials | undefined;
  const { rooms: created } = await bootstrapSynapse({
    client: setup,
    sharedSecret: secret,
    bot: { localpart: 'phenom-bot', password: 'bot-password-0123456789', displayName: 'Phenom Bot' },
    store: { load: async () => stored, save: async (c) => void (stored = c) },
  });
  const bot = { userId: stored!.userId, token: stored!.accessToken };
  const byAlias = (alias: string) => created.find((r) => r.alias.startsWith(`#${alias}:`))!.roomId;
  const rooms = { internal: byAlias('internal'), partners: byAlias('partners'), community: byAlias('community') };
  const tokens = new Map<string, string>([[bot.userId, bot.token]]);
  /** A raw client-API call as `userId`. */
  const as = async (userId: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${hs.url}/_matrix/client/v3/${path}`, {
      method,
      headers: { authorization: `Bearer ${tokens.get(userId)}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`${method} ${path} as ${userId}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const enc = encodeURIComponent;
  const joinAs = async (roomId: string, localpart: string) => {
    const user = hs.createUser(localpart);
    tokens.set(user.userId, user.accessToken);
    await as(bot.userId, 'POST', `rooms/${enc(roomId)}/invite`, { user_id: user.userId });
    await as(user.userId, 'POST', `rooms/${enc(roomId)}/join`, {});
    return user.userId;
  };
  const alice = await joinAs(rooms.community, 'alice');
  const bob = await joinAs(rooms.community, 'bob');
  const backend = new SynapseBackend({
    client: new MatrixClient({ baseUrl: hs.url, accessToken: bot.token }),
    roomAliases: ['#internal:chat.test', '#partners:chat.test', '#community:chat.test'],
    log: silent,
  });
  return {
    kind: 'synapse',
    backend,
    rooms,
    agent: bot.userId,
    alice,
    bob,
    async addMembers(roomId, count, prefix) {
      const ids: string[] = [];
      // Direct joins (as an accepted invite would make them): thousands of HTTP round trips would only slow the test.
      for (let i = 1; i <= count; i++) {
        const user = hs.createUser(`${prefix}${String(i).padStart(6, '0')}`);
        hs.join(roomId, user.userId);
        ids.push(user.userId);
      }
      return ids;
    },
    async setDisplayName(roomId, userId, name) {
      // A member sets their own member event (its state key is their id, so only they may).
      await as(userId, 'PUT', `rooms/${enc(roomId)}/state/m.room.member/${enc(userId)}`, { membership: 'join', displayname: name });
    },
    async makeAdmin(roomId, userId) {
      const levels = await as(bot.userId, 'GET', `rooms/${enc(roomId)}/state/m.room.power_levels/`);
      const users = { ...((levels.users as Record<string, number>) ?? {}), [userId]: 100 };
      await as(bot.userId, 'PUT', `rooms/${enc(roomId)}/state/m.room.power_levels/`, { ...levels, users });
    },
    async storedMessages(roomId, content) {
      return hs.timeline(roomId).filter((e) => e.type === 'm.room.message' && e.content.body === content).length;
    },
    async stop() {
      await backend.close();
      await hs.stop();
    },
  };
}
