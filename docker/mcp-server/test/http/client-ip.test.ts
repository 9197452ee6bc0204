import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { CLIENT_IP_CASES } from '../../../../test/support/client-ip-cases';
import { startEnvironment, type Environment } from '../support/environment';

/*
 * The client address in the server's access log, for requests as the ALB hands them on: the same cases
 * Synapse's edge proxy answers under nginx (test/docker/synapse-edge/edge.test.ts). 127.0.0.1 plays the
 * ALB (ALB_PEER_CIDRS), 127.0.0.2 a peer that is not the ALB.
 */
describe.each(['none', 'cloudflare'] as const)('the access log client address, EDGE_PROVIDER=%s', (provider) => {
  let env: Environment;
  beforeAll(async () => {
    env = await startEnvironment({ EDGE_PROVIDER: provider, ALB_PEER_CIDRS: '127.0.0.1/32' });
  });
  afterAll(async () => {
    await env?.teardown();
  });

  /** Sends an unauthenticated POST /mcp (401, logged at info) from `from`; resolves with the logged clientIp. */
  async function loggedClientIp(headers: Record<string, string>, from: string, agent?: Agent): Promise<unknown> {
    const requestId = randomUUID();
    await new Promise<void>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: env.server.port, localAddress: from, agent, path: '/mcp', method: 'POST', headers: { ...headers, 'x-request-id': requestId, 'content-type': 'application/json' } },
        (res) => {
          if (agent) reusedSockets.push(req.reusedSocket);
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end('{}');
    });
    // The line is written when the response closes; wait for it (bounded by the test timeout, not a clock).
    for (;;) {
      const line = env.server.logs.find((l) => l.msg === 'request' && l.requestId === requestId);
      if (line) return line.clientIp;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  const reusedSockets: boolean[] = [];
  it('works the address out again when the headers change on a kept-alive connection (the ALB reuses one for many clients)', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect(await loggedClientIp({ 'x-forwarded-for': '203.0.113.7' }, '127.0.0.1', agent)).toBe('203.0.113.7');
      expect(await loggedClientIp({ 'x-forwarded-for': '203.0.113.7' }, '127.0.0.1', agent)).toBe('203.0.113.7');
      expect(await loggedClientIp({ 'x-forwarded-for': '6.6.6.6, 203.0.113.8' }, '127.0.0.1', agent)).toBe('203.0.113.8');
      expect(await loggedClientIp({}, '127.0.0.1', agent)).toBe('127.0.0.1');
      expect(reusedSockets).toEqual([false, true, true, true]); // one connection throughout
    } finally {
      agent.destroy();
    }
  });

  it.each(CLIENT_IP_CASES)('logs $name', async (c) => {
    const from = c.from === 'alb' ? '127.0.0.1' : '127.0.0.2';
    const headers: Record<string, string> = {};
    if (c.xForwardedFor !== undefined) headers['x-forwarded-for'] = c.xForwardedFor;
    if (c.cfConnectingIp !== undefined) headers['cf-connecting-ip'] = c.cfConnectingIp;
    const expected = c[provider];
    expect(await loggedClientIp(headers, from)).toBe(expected === 'alb' || expected === 'peer' ? from : expected);
  });
});
