import { createServer as createHttpServer } from 'node:http';
import { AddressInfo } from 'node:net';

export { freeLoopbackPort } from '../../scripts/local-postgres/port';

/** An HTTP server on 127.0.0.1 that accepts requests and never answers: for testing client timeouts. */
export async function startSilentHttpServer(): Promise<{ readonly url: string; close(): Promise<void> }> {
  const server = createHttpServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
