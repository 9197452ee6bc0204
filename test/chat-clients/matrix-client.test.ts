import { MatrixClient } from '../../chat-clients/matrix-client';
import { startSilentHttpServer } from '../support/net';

describe('MatrixClient within a deadline', () => {
  it('cuts each call to the time left, so a homeserver that never answers fails the poll before its Lambda timeout', async () => {
    const silent = await startSilentHttpServer();
    try {
      const client = new MatrixClient({ baseUrl: silent.url, deadline: Date.now() + 400 });
      const started = Date.now();
      await expect(client.registerWithSharedSecret('s', { username: 'bot', password: 'p', admin: true })).rejects.toThrow(
        /^GET \/_synapse\/admin\/v1\/register: cannot reach the homeserver at http:\/\/127\.0\.0\.1:\d+: .*(timeout|aborted)/i,
      );
      expect(Date.now() - started).toBeLessThan(2_000);
      // Past the deadline no call starts; /health then counts as not healthy.
      await expect(client.registerWithSharedSecret('s', { username: 'bot', password: 'p', admin: true })).rejects.toThrow(
        /^GET \/_synapse\/admin\/v1\/register: this deploy step ran out of time before the call/,
      );
      expect(await client.isHealthy()).toBe(false);
    } finally {
      await silent.close();
    }
  });
});
