import { readFileSync } from 'node:fs';
import { bearer, postRpc, toolCall } from '../support/raw-rpc';
import { startEnvironment, type Environment } from '../support/environment';

/**
 * Issue #14's measurement, as a test: a 20,000-member room, and the 60-call burst one agent may
 * send. Each answer is one bounded page, and the server's peak memory stays far from the task's
 * 512 MiB (before paging, one call answered 4.1 MiB and the burst took the process past 500 MiB).
 */
let env: Environment;
const MEMBERS = 20_000;

beforeAll(async () => {
  env = await startEnvironment();
  const room = env.fixture.rooms.community;
  await env.db.pool.query(`INSERT INTO users (id, username, display_name) SELECT 'bulk-' || lpad(g::text, 5, '0'), 'bulk' || g, 'Bulk Member ' || g FROM generate_series(1, $1::int) g`, [MEMBERS]);
  await env.db.pool.query(`INSERT INTO chat_members (room_id, user_id) SELECT $1, 'bulk-' || lpad(g::text, 5, '0') FROM generate_series(1, $2::int) g`, [room, MEMBERS]);
});
afterAll(() => env?.teardown());

/** The child's peak resident set (VmHWM), in MiB. */
const peakRssMiB = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${env.server.proc.pid}/status`, 'utf8'))![1]) / 1024;

it('answers chat_list_members for a 20,000-member room with one page of 100, well under the result budget, even in a 60-call burst', async () => {
  const call = () => postRpc(env.server.mcpUrl, toolCall('chat_list_members', { room_id: env.fixture.rooms.community }), bearer(env.token));
  const burst = await Promise.all(Array.from({ length: 60 }, call));
  for (const res of burst) {
    expect(res.status).toBe(200);
    expect(Buffer.byteLength(res.text)).toBeLessThan(256 * 1024);
    const { structuredContent } = (JSON.parse(res.text) as { result: { structuredContent: { members: unknown[]; next_cursor: string | null } } }).result;
    expect(structuredContent.members).toHaveLength(100);
    expect(structuredContent.next_cursor).toEqual(expect.any(String));
  }
  expect(peakRssMiB()).toBeLessThan(200);
});
