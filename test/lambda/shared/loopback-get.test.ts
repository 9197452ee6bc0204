import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpError } from '../../../chat-clients/http';
import { loopbackGet } from '../../../lambda/shared/loopback-get';

/** The loopback GET the secret reader uses for the Parameters and Secrets extension, against real HTTP servers on 127.0.0.1. */
const servers: Server[] = [];

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

it('sends the headers and returns the status and the whole body, whatever the status', async () => {
  const url = await serve((req, res) => {
    res.statusCode = req.headers['x-token'] === 't' ? 200 : 401;
    res.write(`${req.url} `);
    res.end('é'.repeat(3));
  });
  await expect(loopbackGet(`${url}/get?id=a%2Fb`, { 'X-Token': 't' }, 1_000)).resolves.toEqual({ status: 200, text: '/get?id=a%2Fb ééé' });
  await expect(loopbackGet(`${url}/get`, {}, 1_000)).resolves.toEqual({ status: 401, text: '/get ééé' });
});

it('times out a server that never answers, and one that stops in the middle of the body', async () => {
  const silent = await serve(() => undefined);
  const stalled = await serve((_req, res) => {
    res.writeHead(200, { 'content-length': '100' });
    res.write('partial');
  });
  for (const url of [silent, stalled]) {
    const failure = await loopbackGet(url, {}, 50).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(HttpError);
    expect(failure).toMatchObject({ failure: 'timeout', timeoutMs: 50, message: 'no answer within 50 ms' });
  }
});

it('says the server is unreachable when nothing listens', async () => {
  const url = await serve(() => undefined);
  await new Promise((resolve) => servers.pop()!.close(resolve));
  await expect(loopbackGet(url, {}, 1_000)).rejects.toMatchObject({ failure: 'unreachable', message: expect.stringContaining('ECONNREFUSED') });
});
