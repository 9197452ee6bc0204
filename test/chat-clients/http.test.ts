import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { fetchWithTimeout, HttpError } from '../../chat-clients/http';
import { freeLoopbackPort, startSilentHttpServer } from '../support/net';

const unanswered = (why: { failure: string; timeoutMs: number; reason: string }) => `probe: ${why.failure} after ${why.timeoutMs} ms (${why.reason})`;

async function serve(status: number, body: string): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => res.writeHead(status, { 'content-type': 'application/json' }).end(body));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

describe('fetchWithTimeout', () => {
  it('returns any status with the body as text and, when it is JSON, parsed', async () => {
    const { url, server } = await serve(404, '{"errcode":"M_NOT_FOUND"}');
    try {
      const answer = await fetchWithTimeout(url, { timeoutMs: 2_000, what: 'probe', unanswered });
      expect(answer).toMatchObject({ status: 404, ok: false, text: '{"errcode":"M_NOT_FOUND"}', json: { errcode: 'M_NOT_FOUND' } });
    } finally {
      server.close();
    }
  });

  it('leaves json undefined for an empty body and for one that is not JSON', async () => {
    for (const body of ['', '<html>bad gateway</html>']) {
      const { url, server } = await serve(200, body);
      try {
        const answer = await fetchWithTimeout(url, { timeoutMs: 2_000, what: 'probe', unanswered });
        expect(answer).toMatchObject({ ok: true, text: body, json: undefined });
      } finally {
        server.close();
      }
    }
  });

  it('throws a timeout HttpError with the limit and the caller message when the server never answers', async () => {
    const silent = await startSilentHttpServer();
    try {
      const error = await fetchWithTimeout(silent.url, { timeoutMs: 150, what: 'probe', unanswered }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HttpError);
      expect(error).toMatchObject({ failure: 'timeout', timeoutMs: 150, status: undefined, message: expect.stringMatching(/^probe: timeout after 150 ms \(.*(timeout|aborted)/i) });
      expect((error as HttpError).cause).toBeDefined();
    } finally {
      await silent.close();
    }
  });

  it('throws an unreachable HttpError naming the socket error when nothing listens', async () => {
    const port = await freeLoopbackPort();
    const error = await fetchWithTimeout(`http://127.0.0.1:${port}/`, { timeoutMs: 2_000, what: 'probe', unanswered }).catch((e: unknown) => e);
    expect(error).toMatchObject({ failure: 'unreachable', message: expect.stringContaining('ECONNREFUSED') });
  });

  it('cuts the timeout to the deadline, and starts no call once it has passed', async () => {
    const silent = await startSilentHttpServer();
    try {
      const cut = await fetchWithTimeout(silent.url, { timeoutMs: 30_000, deadline: Date.now() + 200, what: 'probe', unanswered }).catch((e: unknown) => e);
      expect((cut as HttpError).timeoutMs).toBeLessThanOrEqual(200);
      await expect(fetchWithTimeout(silent.url, { timeoutMs: 30_000, deadline: Date.now() - 1, what: 'probe', unanswered })).rejects.toThrow(/^probe: this deploy step ran out of time/);
    } finally {
      await silent.close();
    }
  });
});
