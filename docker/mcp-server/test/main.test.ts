import { startEnvironment, type Environment } from './support/environment';
import { bearer, postRpc, toolCall } from './support/raw-rpc';

let env: Environment;

async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
beforeAll(async () => {
  env = await startEnvironment({ SHUTDOWN_GRACE_MS: '10000' });
});
afterAll(() => env?.teardown());

it('on SIGTERM finishes in-flight requests, refuses new ones, and exits 0', async () => {
  const locker = await env.db.pool.connect();
  try {
    // Hold the rooms table so the next tool call is still running when SIGTERM arrives.
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE chat_rooms IN ACCESS EXCLUSIVE MODE');
    const inFlight = postRpc(env.server.mcpUrl, toolCall('chat_list_rooms', {}), bearer(env.token));
    // SIGTERM only once the server is really executing the call (its query waits on the lock).
    await waitFor(async () => {
      const { rows } = await env.db.pool.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = 'phenom-chat-mcp' AND wait_event_type = 'Lock'`);
      return rows.length > 0;
    });
    const exited = env.server.stop('SIGTERM');
    await waitFor(async () => env.server.logs.some((l) => l.msg === 'shutting down'));
    await expect(fetch(`${env.server.url}/health`)).rejects.toThrow(); // no longer accepting
    await locker.query('COMMIT');
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.text).toContain('Phenom Community');
    expect(await exited).toBe(0);
    expect(env.server.logs.find((l) => l.msg === 'stopped')).toMatchObject({ drained: true });
  } finally {
    locker.release();
  }
});
