import type { PoolClient } from 'pg';
import { connect, type ConnectedClient } from '../../support/clients';
import { startEnvironment, type Environment } from '../../support/environment';

/**
 * A server whose one pooled database connection is busy: the database is up, so neither the tool
 * error nor /health may call it unreachable. PG_POOL_MAX=1 makes one slow call exhaust the pool.
 */
let env: Environment;
let client: ConnectedClient;
let locker: PoolClient;

beforeAll(async () => {
  env = await startEnvironment({ PG_POOL_MAX: '1' });
  client = await connect('sdk-v2 legacy (2025-11-25)', env.server.mcpUrl, env.token);
  locker = await env.db.pool.connect();
});
afterAll(async () => {
  locker?.release();
  await client?.close();
  await env?.teardown();
});

const waitFor = async (check: () => Promise<boolean>) => {
  for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 25));
};

it('reports an exhausted pool as busy, not as an unreachable database, and /health still says reachable', async () => {
  await locker.query('BEGIN');
  await locker.query('LOCK TABLE chat_rooms IN ACCESS EXCLUSIVE MODE');
  // The pool's only connection now waits on the lock inside this call.
  const holding = client.callTool('chat_list_rooms', {});
  await waitFor(async () => (await env.db.pool.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = 'phenom-chat-mcp' AND wait_event_type = 'Lock'`)).rows.length > 0);
  try {
    const health = await (await fetch(`${env.server.url}/health`)).json();
    expect(health).toEqual({ status: 'ok', backend: 'reachable' });
    const busy = await client.callTool('chat_get_messages', { room_id: env.fixture.rooms.community });
    expect(busy.isError).toBe(true);
    expect(busy.content[0]!.text).toMatch(/busy/);
    expect(busy.content[0]!.text).not.toMatch(/unreachable|unavailable/i);
    expect(env.server.logs.filter((l) => l.msg === 'tool call' && l.tool === 'chat_get_messages').at(-1)).toMatchObject({ outcome: 'backend_busy' });
  } finally {
    await locker.query('COMMIT');
  }
  expect((await holding).isError).toBeFalsy();
  expect((await client.callTool('chat_get_messages', { room_id: env.fixture.rooms.community })).isError).toBeFalsy();
});
