import { startEnvironment, type Environment } from './support/environment';
import { bearer, postRpc, toolCall } from './support/raw-rpc';

let env: Environment;
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
    await new Promise((r) => setTimeout(r, 500));
    const exited = env.server.stop('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
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
